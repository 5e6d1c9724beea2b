"""`dnetlab capture`: packets of a lab container's network namespace as pcap, wherever the
container lives (docs/capture.md). The engine side is `dnetlab.engine.capture`; here the
target is found in the lab, checked, the tools image brought to its host, the stream
counted as it passes, and tcpdump's complaints turned into messages."""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dnetlab.engine import capture as engine_capture
from dnetlab.engine.engine import Engine
from dnetlab.engine.impair import TOOLS_IMAGE
from dnetlab.errors import DnetlabError, EnvironmentFailure, UsageError, shown
from dnetlab.lab.progress import Reporter
from dnetlab.lab.session import find_container
from dnetlab.model import Scenario

_IFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}")
MAX_FILTER = 4096  # characters of a BPF filter: a longer one is a mistake
_FILTER_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters but tab


@dataclass(frozen=True)
class Target:
    container: str  # the lab's key
    iface: str  # "any" when none was given


@dataclass(frozen=True)
class CaptureResult:
    packets: int
    bytes: int
    tool_said: str  # tcpdump's stderr


def parse_target(text: str) -> Target:
    key, sep, iface = text.partition(":")
    if not key:
        raise UsageError(f"no container in {shown(text)}: give CONTAINER or CONTAINER:IFACE")
    if sep and not _IFACE.fullmatch(iface):
        raise UsageError(f"bad interface name {shown(iface)}: an interface name is 1 to 15 "
                         "letters, digits, '_', '.', '@' or '-'")
    return Target(key, iface or "any")


def check_filter(words: Sequence[str]) -> list[str]:
    """The BPF filter's words, as tcpdump gets them (an argument vector, never a shell
    string); refused when it holds control characters or is absurdly long."""
    text = " ".join(words)
    if len(text) > MAX_FILTER:
        raise UsageError(f"the capture filter is {len(text)} characters long (at most "
                         f"{MAX_FILTER})")
    for w in words:
        if _FILTER_CHARS.search(w):
            raise UsageError(f"the capture filter {shown(w)} holds a control character")
    return list(words)


class PcapCounter:
    """Counts the packets of a pcap stream as it passes, chunk by chunk."""

    def __init__(self) -> None:
        self.packets = 0
        self.bytes = 0
        self._buf = bytearray()
        self._endian: str | None = None
        self._need = 24  # the file header, then each record's 16-byte header + data

    def feed(self, data: bytes) -> None:
        self.bytes += len(data)
        self._buf += data
        while len(self._buf) >= self._need:
            if self._endian is None:
                magic = bytes(self._buf[:4])
                self._endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") \
                    else ">"
                del self._buf[:24]
                self._need = 16
                continue
            if self._need == 16:
                incl = struct.unpack(self._endian + "I", bytes(self._buf[8:12]))[0]
                self._need = 16 + incl
                continue
            del self._buf[:self._need]
            self.packets += 1
            self._need = 16


def _ensure_tools(engine: Engine, reporter: Reporter) -> None:
    """The tools image with tcpdump on the container's host: copied from the local engine
    when the host lacks it or has one built before tcpdump was added."""
    from dnetlab.lab.impair import copy_tools

    def has_tcpdump() -> bool:
        contents = engine_capture.tools_contents(engine.conn)
        return contents is not None and engine_capture.CAPTURE_TOOL in contents.split(",")

    if has_tcpdump():
        return
    hint = ("build it with scripts/nettools-image.sh (make engine) on the machine that "
            "runs dnetlab")
    if engine.host.engine is None:
        raise EnvironmentFailure(f"the local engine's tools image {TOOLS_IMAGE} lacks "
                                 f"{engine_capture.CAPTURE_TOOL}; {hint}")
    why = copy_tools({engine.host.key: engine}, [], engine.host.key, reporter)
    if why or not has_tcpdump():
        raise EnvironmentFailure(f"host {engine.host.key}: dnetlab's tools image with "
                                 f"{engine_capture.CAPTURE_TOOL} is missing "
                                 f"({why or 'the local one lacks it too'}); {hint}")


def _why(end: engine_capture.CaptureEnd, engine: Engine, target_id: str, target: Target,
         bpf: Sequence[str]) -> DnetlabError:
    said = end.stderr.strip()
    last = said.splitlines()[-1] if said else f"tcpdump exited with {end.exit_code}"
    if "No such device" in said or "doesn't exist" in said or "no such device" in said:
        try:
            names = ", ".join(engine_capture.interfaces(engine.conn, target_id))
        except DnetlabError:
            names = "?"
        return UsageError(f"container {target.container} has no interface "
                          f"{shown(target.iface)} (interfaces: any, {names})")
    if "syntax error" in said or "can't parse filter" in said or "illegal" in said:
        return UsageError(f"bad capture filter {shown(' '.join(bpf))}: {last}")
    return DnetlabError(f"capture in {target.container} failed: {last}")


def capture(sc: Scenario, target_text: str, sink: Callable[[bytes], None], reporter: Reporter,
            *, count: int | None = None, duration: float | None = None,
            bpf: Sequence[str] = (), on_packets: Callable[[int], None] | None = None,
            stop: threading.Event | None = None) -> CaptureResult:
    """Capture in the lab container `target_text` (CONTAINER[:IFACE]) until `count`
    packets, `duration` seconds, or `stop` is set (the CLI sets it at Ctrl-C); the helper
    goes in every case, a KeyboardInterrupt too. Each chunk of pcap goes to `sink` as it
    comes."""
    target = parse_target(target_text)
    words = check_filter(bpf)
    host, name = find_container(sc, target.container)
    engine = Engine.open(host)
    try:
        target_id, running = engine_capture.container_id(engine.conn, name)
        if not running:
            raise UsageError(f"container {target.container} of lab {sc.name} is not running "
                             "(`dnetlab up` starts it)")
        _ensure_tools(engine, reporter)
        counter = PcapCounter()

        def passed(data: bytes) -> None:
            before = counter.packets
            counter.feed(data)
            sink(data)
            if on_packets is not None and counter.packets != before:
                on_packets(counter.packets)

        argv = engine_capture.tcpdump_argv(target.iface, count, words)
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt  # asked to stop before anything was captured
        end = engine_capture.capture(engine.conn, target_id, argv, passed, duration,
                                     stop=stop)
        stopped = stop is not None and stop.is_set()  # tcpdump's end is then ours
        if end.exit_code != 0 and counter.bytes <= 24 and not stopped:
            raise _why(end, engine, target_id, target, words)
        return CaptureResult(counter.packets, counter.bytes, end.stderr)
    finally:
        engine.close()
