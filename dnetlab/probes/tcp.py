"""`tcp`: a port of `to` is open (a connect) or closed (a refusal or a timeout).

`nc -w 2`, so a `closed` probe to a name that does not resolve passes too: nc times out.
There is no output to parse: the exit code says whether it connected, and what nc said
explains a failure.

busybox nc has no -z: it connects, sends the end of its (empty) input and waits for the
peer to close. The kernel completes a connection to a listening socket by itself, so the
connect succeeds even when the process behind it is frozen (`docker pause`) or hung, and
then nc waits forever. `timeout` bounds the whole exchange: a port whose process does not
close the connection within ANSWER_S counts as not open ("nothing answered"), which is
what a client of that service sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from shlex import quote
from typing import Any, Literal

from dnetlab.probes.base import (
    Command,
    Fields,
    Path,
    ProbeBase,
    ProbeKind,
    References,
    Resolved,
    Target,
    Verdict,
)
from dnetlab.probes.output import last_line


@dataclass(frozen=True)
class TcpProbe(ProbeBase):
    source: str
    target: Target
    port: int
    expect: Literal["open", "closed"] = "open"
    type: Literal["tcp"] = "tcp"


def build(f: Fields) -> TcpProbe:
    v = f.raw
    return TcpProbe(**f.common, source=f.source, target=f.target, port=v["port"],
                    expect=v.get("expect", "open"))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"tcp {source} -> {to}:{v.get('port')}"


def check_refs(p: TcpProbe, refs: References, path: Path) -> None:
    refs.container_ref(p.source, path, "from")
    refs.target_ref(p.source, p.target, path)


ANSWER_S = 3  # the whole exchange; nc's own -w 2 bounds the connect
# what `timeout` exits with when it ended nc: busybox 143 (SIGTERM), GNU coreutils 124
_KILLED = (124, 143)


def command(r: Resolved[TcpProbe]) -> Command:
    # with stdin closed nc connects and ends once the peer closes; 0 = open
    return Command(f"timeout {ANSWER_S} nc -w 2 {quote(r.address or '')} {r.probe.port} "
                   "</dev/null", ("timeout", "nc"))


def _failure(exit_code: int, output: str) -> str:
    low = output.lower()
    if exit_code in _KILLED and "timed out" not in low and "refused" not in low:
        return (f"connected, but nothing answered within {ANSWER_S} s (the process behind "
                "the port is paused or hung)")
    if "refused" in low:
        return "refused"
    if "timed out" in low or "timeout" in low:
        return "timed out"
    said = last_line(output)
    if said is None:
        return f"not connected (exit {exit_code})"
    for prefix in ("nc: ", "Ncat: "):
        if said.startswith(prefix):
            said = said[len(prefix):]
    return f"not connected: {said}"


def check(r: Resolved[TcpProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    where = f"{r.address or p.target.text}:{p.port}"
    actual = f"{where} open" if exit_code == 0 else f"{where} {_failure(exit_code, output)}"
    if p.expect == "closed":
        return Verdict(exit_code != 0, f"{where} closed (refused or timed out)", actual)
    return Verdict(exit_code == 0, f"{where} open", actual)


TCP = ProbeKind(
    type_name="tcp", probe=TcpProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.source, target=lambda p: p.target, command=command, check=check)
