"""Each probe type's command: a POSIX sh snippet for busybox (or iputils/bind-tools/GNU
tools, whose output `parse` also reads). Pure: resolved probe in, `Command` out.

Timeouts are bounded everywhere so a batch of probes finishes in seconds even when
every target is silent.
"""

from __future__ import annotations

import shlex

from dnetlab.model import (
    DnsProbe,
    ExecProbe,
    FileProbe,
    HttpProbe,
    InterfacesProbe,
    PingProbe,
    RoutesProbe,
    TcpProbe,
    TracerouteProbe,
)
from dnetlab.verify.outcome import Command, Resolved

SECTION = "@@dnetlab-section"  # splits the parts of one probe's output (http, interfaces)


def _q(text: str) -> str:
    return shlex.quote(text)


def command_for(r: Resolved) -> Command:
    p = r.probe
    if isinstance(p, PingProbe):
        # -A: the next echo as soon as a reply comes (fast when reachable); -w bounds the
        # whole run when nothing answers.
        deadline = p.count + 2
        return Command(f"ping -c {p.count} -A -W 1 -w {deadline} {_q(r.address or '')}",
                       ("ping",))
    if isinstance(p, DnsProbe):
        return Command(f"nslookup {_q(p.query)}", ("nslookup",))
    if isinstance(p, TcpProbe):
        # busybox nc has no -z: with stdin closed it connects and ends; 0 = open
        return Command(f"nc -w 2 {_q(r.address or '')} {p.port} </dev/null", ("nc",))
    if isinstance(p, HttpProbe):
        # headers (-S) go to stderr and the body to a file, printed after a marker; the
        # deadline is timeout(1): Debian's busybox wget crashes on its own -T
        return Command(
            f'b=$(mktemp 2>/dev/null || echo /tmp/.dnetlab-body.$$); '
            f"timeout 5 wget -S -O \"$b\" {_q(p.url)} 2>&1; rc=$?; echo {SECTION}; "
            f'cat "$b" 2>/dev/null; rm -f "$b"; exit $rc',
            ("wget", "timeout"))
    if isinstance(p, TracerouteProbe):
        return Command(f"traceroute -n -q 1 -w 1 -m {p.max_hops} {_q(r.address or '')}",
                       ("traceroute",))
    if isinstance(p, InterfacesProbe):
        return Command(f"ip -o link show; echo {SECTION}; ip -o addr show", ("ip",))
    if isinstance(p, RoutesProbe):
        return Command("ip route show", ("ip",))
    if isinstance(p, FileProbe):
        return Command(f"cat {_q(p.path)}", ("cat",), needs_target=True)
    if isinstance(p, ExecProbe):
        return Command(" ".join(_q(a) for a in p.command), (), needs_target=True)
    raise TypeError(f"no command for probe type {p.type}")  # pragma: no cover
