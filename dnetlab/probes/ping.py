"""`ping`: `from` reaches `to`, or does not (spec section 7).

Reachable: at least one reply and a loss at most `max_loss`; unreachable: no reply at
all. The check reads the statistics line, never the exit code: busybox `ping` exits 1 on
partial loss.
"""

from __future__ import annotations

import re
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
from dnetlab.probes.output import last_words, lines
from dnetlab.probes.wording import pct, plural


@dataclass(frozen=True)
class PingProbe(ProbeBase):
    source: str
    target: Target
    count: int = 3
    expect: Literal["reachable", "unreachable"] = "reachable"
    max_loss: float = 0.0
    type: Literal["ping"] = "ping"


def build(f: Fields) -> PingProbe:
    v = f.raw
    return PingProbe(**f.common, source=f.source, target=f.target, count=v.get("count", 3),
                     expect=v.get("expect", "reachable"), max_loss=float(v.get("max_loss", 0)))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"ping {source} -> {to}"


def check_refs(p: PingProbe, refs: References, path: Path) -> None:
    refs.container_ref(p.source, path, "from")
    refs.target_ref(p.source, p.target, path)


def command(r: Resolved[PingProbe]) -> Command:
    p = r.probe
    # -A: the next echo as soon as a reply comes (fast when reachable); -w bounds the
    # whole run when nothing answers.
    deadline = p.count + 2
    return Command(f"ping -c {p.count} -A -W 1 -w {deadline} {quote(r.address or '')}",
                   ("ping",))


# ---- its output ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ping:
    transmitted: int
    received: int
    loss: float | None  # percent; None when no statistics came (the ping could not start)
    errors: int = 0  # iputils "+N errors": ICMP errors such as host unreachable
    error: str | None = None  # why there are no statistics: "bad address 'x'"


_PING_STATS = re.compile(
    r"(\d+) packets transmitted, (\d+) (?:packets )?received"
    r"(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?(?:, \+\d+ corrupted)?"
    r"(?:, ([\d.]+)% packet loss)?")


def parse_ping(text: str) -> Ping:
    """busybox: "3 packets transmitted, 3 packets received, 0% packet loss";
    iputils: "3 packets transmitted, 3 received, +2 errors, 0% packet loss, time 2003ms"."""
    for line in lines(text):
        m = _PING_STATS.search(line)
        if m:
            tx, rx = int(m.group(1)), int(m.group(2))
            loss = float(m.group(5)) if m.group(5) else (
                100.0 * (tx - rx) / tx if tx else 100.0)
            return Ping(tx, rx, loss, int(m.group(4) or 0))
    error = last_words(text)
    if error and error.startswith("ping: "):
        error = error[len("ping: "):]
    return Ping(0, 0, None, 0, error or "no output")


def check(r: Resolved[PingProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    res = parse_ping(output)
    if res.loss is None:
        actual = f"no replies: {res.error}"
    elif res.received == 0:
        actual = f"0/{res.transmitted} replies ({pct(res.loss)} loss)"
    else:
        actual = f"{res.received}/{res.transmitted} replies, {pct(res.loss)} loss"
    if res.errors:
        actual += f", {plural(res.errors, 'ICMP error')}"
    if p.expect == "unreachable":
        return Verdict(res.received == 0, "unreachable (no replies)", actual)
    passed = res.received > 0 and res.loss is not None and res.loss <= p.max_loss
    return Verdict(passed, f"reachable (loss <= {pct(p.max_loss)})", actual)


PING = ProbeKind(
    type_name="ping", probe=PingProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.source, target=lambda p: p.target, command=command, check=check)
