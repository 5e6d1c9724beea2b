"""Packet capture in a container's network namespace: tcpdump from dnetlab's tools image
in a helper container (`--network container:<id>`, NET_RAW and NET_ADMIN), its pcap
streamed back as it comes.

The helper is made by the API with its command as an argument vector (the BPF filter
never goes through a shell), labelled as a dnetlab helper, with no log driver (the pcap
is not kept on the host's disk), and removed whatever happens (the end of the capture,
an error, Ctrl-C). Its stdout is the pcap:

- locally (and over tcp://): the API's attach stream, opened before the helper starts;
- over ssh://: `docker start -a ID` on a session of the host's SSH connection that the
  engine already uses: the bytes come as tcpdump writes them, not copied afterwards.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError, translated
from dnetlab.engine.helpers import helper_name, remove_helper
from dnetlab.engine.impair import TOOLS_IMAGE

CONTENTS_LABEL = "dnetlab.tools.contents"  # scripts/nettools-image.sh sets it
CAPTURE_TOOL = "tcpdump"
HELPER_LABELS = {"dnetlab.kind": "helper", "dnetlab.helper": "capture"}
_READ_CHUNK = 65536
_POLL_S = 0.25
_HEX_ID = re.compile(r"[0-9a-f]{12,64}")


@dataclass(frozen=True)
class CaptureEnd:
    exit_code: int  # tcpdump's (-1 when it could not be read)
    stderr: str  # what tcpdump said (its "listening on", its counts, its errors)


def tcpdump_argv(iface: str, count: int | None, bpf: list[str]) -> list[str]:
    """tcpdump's arguments: packet-buffered pcap on stdout, as root (the image has no
    `tcpdump` user), the filter's words after `--` so none can be an option."""
    argv = [CAPTURE_TOOL, "-Z", "root", "-U", "-n", "-i", iface, "-w", "-"]
    if count:
        argv += ["-c", str(count)]
    if bpf:
        argv += ["--", *bpf]
    return argv


def tools_contents(conn: Connection) -> str | None:
    """The tools image's contents label on this host; None when the host lacks the image
    ("" when the image predates the label)."""
    import docker

    try:
        info = conn.api.inspect_image(TOOLS_IMAGE)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.NotFound:
        return None
    labels = (info.get("Config") or {}).get("Labels") or {}
    return str(labels.get(CONTENTS_LABEL, ""))


def container_id(conn: Connection, name: str) -> tuple[str, bool]:
    """The ID of a container on this host and whether it runs."""
    with translated(f"host {conn.host.key}: inspecting container {name}"):
        info = conn.api.inspect_container(name)
    return str(info["Id"]), bool((info.get("State") or {}).get("Running"))


def capture(conn: Connection, target_id: str, argv: list[str], sink: Callable[[bytes], None],
            duration: float | None = None,
            on_stderr: Callable[[bytes], None] | None = None,
            stop: threading.Event | None = None) -> CaptureEnd:
    """Run `argv` (tcpdump) in the namespace of container `target_id`, hand each chunk
    of its stdout to `sink` as it comes, end it (`_Ender`) after `duration` seconds or
    once `stop` is set; the helper is removed whatever happens."""
    api = conn.api
    name = helper_name("capture")
    what = f"host {conn.host.key}: capture helper"
    err = bytearray()

    def said(data: bytes) -> None:
        err.extend(data)
        if on_stderr is not None:
            on_stderr(data)

    cid: str | None = None
    ender: _Ender | None = None
    try:
        with translated(what):
            cid = str(api.create_container(
                TOOLS_IMAGE, command=argv, name=name, labels=HELPER_LABELS, detach=True,
                host_config=api.create_host_config(
                    network_mode=f"container:{target_id}", cap_add=["NET_RAW", "NET_ADMIN"],
                    log_config={"Type": "none", "Config": {}}))["Id"])
        if duration is not None or stop is not None:
            ender = _Ender(conn, cid, duration, stop)
        client = conn.ssh_client()
        if client is not None:
            _stream_over_ssh(conn, client, cid, sink, said, ender)
        else:
            _stream_attached(conn, cid, sink, said, ender)
        with translated(what):
            code = api.wait(cid, timeout=conn.timeout).get("StatusCode", -1)
        return CaptureEnd(int(code), err.decode(errors="replace"))
    finally:
        if ender is not None:
            ender.ended.set()
        remove_helper(api, cid, name)


class _Ender:
    """Ends the helper's tcpdump once `duration` is up or `stop` is set: SIGINT, so that it
    ends its file cleanly and the stream closes, from a thread of its own while the caller
    reads the stream (the SDK's client takes requests from several threads). A SIGINT that
    comes before tcpdump has set its handler is lost (tcpdump is the helper's PID 1): while
    the stream has not ended, SIGKILL every ENDED_S."""

    ENDED_S = 2.0

    def __init__(self, conn: Connection, cid: str, duration: float | None,
                 stop: threading.Event | None) -> None:
        self.conn, self.cid, self.duration, self.stop = conn, cid, duration, stop
        self.ended = threading.Event()  # set by the caller when the stream is over

    def start(self) -> None:
        """Once the helper runs (a signal to a container not yet started is refused)."""
        threading.Thread(target=self._run, name="capture-ender", daemon=True).start()

    def _run(self) -> None:
        deadline = None if self.duration is None else time.monotonic() + self.duration
        while not (self.stop is not None and self.stop.is_set()):
            if deadline is not None and time.monotonic() >= deadline:
                break
            if self.ended.wait(_POLL_S):
                return
        sig = "SIGINT"
        while True:  # until the stream is over (over SSH the helper may not run yet)
            with suppress(Exception):
                self.conn.api.kill(self.cid, signal=sig)
            if self.ended.wait(self.ENDED_S):
                return
            sig = "SIGKILL"


def _stream_attached(conn: Connection, cid: str, sink: Callable[[bytes], None],
                     said: Callable[[bytes], None], ender: _Ender | None) -> None:
    from docker.utils.socket import frames_iter

    api = conn.api
    with translated(f"host {conn.host.key}: capture helper"):
        sock = api.attach_socket(cid, params={"stdout": 1, "stderr": 1, "stream": 1})
    try:
        with translated(f"host {conn.host.key}: capture helper"):
            api.start(cid)
        if ender is not None:
            ender.start()
        # not translated: the sink's own errors (a reader that went away) are the caller's
        for stream, data in frames_iter(sock, tty=False):
            if stream == 1:
                sink(data)
            else:
                said(data)
    finally:
        sock.close()


def _stream_over_ssh(conn: Connection, client: object, cid: str,
                     sink: Callable[[bytes], None], said: Callable[[bytes], None],
                     ender: _Ender | None) -> None:
    if not _HEX_ID.fullmatch(cid):  # it goes in a command line: nothing but an ID
        raise EngineError(f"host {conn.host.key}: unexpected container ID {cid!r}")
    transport = client.get_transport()  # type: ignore[attr-defined]
    if transport is None:
        raise EngineError(f"host {conn.host.key}: the SSH connection is closed")
    chan = transport.open_session(timeout=conn.timeout)
    try:
        chan.settimeout(_POLL_S)
        chan.exec_command(f"docker start -a {cid}")
        chan.shutdown_write()
        if ender is not None:
            ender.start()
        while True:
            while chan.recv_stderr_ready():
                said(chan.recv_stderr(_READ_CHUNK))
            try:
                data = chan.recv(_READ_CHUNK)
            except TimeoutError:
                continue
            if not data:
                break
            sink(data)
        with suppress(TimeoutError):
            while more := chan.recv_stderr(_READ_CHUNK):
                said(more)
    finally:
        chan.close()


def interfaces(conn: Connection, target_id: str) -> list[str]:
    """The interface names in a container's namespace (for an error that names them)."""
    from dnetlab.engine.exec import run_helper

    res = run_helper(conn, TOOLS_IMAGE, ["ip", "-o", "link", "show"],
                     f"container:{target_id}", {"dnetlab.kind": "helper"}, 60.0)
    names = []
    for line in res.output.splitlines():
        m = re.match(r"^\d+:\s+([^:@\s]+)", line)
        if m:
            names.append(m[1])
    return names
