"""`traceroute` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.traceroute import TracerouteProbe
from tests.unit.probes.kit import BASE, judge, judge_text, target


def trace(to: str, **kw: Any) -> TracerouteProbe:
    return TracerouteProbe(**BASE, source="c1", target=target(to), **kw)


ROUTER = frozenset({"10.235.1.254", "10.235.2.254"})
OF = {"r": ROUTER, "c3": frozenset({"10.235.2.20"}), "r2": frozenset({"10.235.1.253"})}
TWO = "2 hops: 10.235.1.254 10.235.2.20"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (trace("10.235.1.11", hops=1), "busybox/traceroute-1hop.txt",
     Verdict(True, "1 hop", "1 hop: 10.235.1.11")),
    (trace("10.235.2.20", hops=1), "busybox/traceroute-2hops.txt",
     Verdict(False, "1 hop", TWO)),
    (trace("10.235.2.20", hops=2), "busybox/traceroute-2hops.txt", Verdict(True, "2 hops", TWO)),
    (trace("10.235.2.20"), "busybox/traceroute-2hops.txt",
     Verdict(True, "reaches 10.235.2.20", TWO)),
    (trace("10.235.2.20", path=("r", "c3")), "busybox/traceroute-2hops.txt",
     Verdict(True, "path r c3", TWO)),
    (trace("10.235.2.20", path=("10.235.1.254", "10.235.2.20")), "busybox/traceroute-2hops.txt",
     Verdict(True, "path 10.235.1.254 10.235.2.20", TWO)),
    (trace("10.235.2.20", path=("c3",)), "busybox/traceroute-2hops.txt",
     Verdict(False, "path c3", TWO)),
    (trace("10.235.2.20", path=("r2", "c3")), "busybox/traceroute-2hops.txt",
     Verdict(False, "path r2 c3", TWO)),
    (trace("10.235.2.20", path=("c3", "r")), "busybox/traceroute-2hops.txt",
     Verdict(False, "path c3 r", TWO)),
    (trace("10.235.2.20", via="r"), "busybox/traceroute-2hops.txt",
     Verdict(True, "via r", TWO)),
    (trace("10.235.2.20", via="10.235.1.254"), "busybox/traceroute-2hops.txt",
     Verdict(True, "via 10.235.1.254", TWO)),
    (trace("10.235.2.20", via="r2"), "busybox/traceroute-2hops.txt",
     Verdict(False, "via r2", TWO)),
    (trace("10.235.2.20", hops=2, path=("r", "c3"), via="r"), "busybox/traceroute-2hops.txt",
     Verdict(True, "2 hops, path r c3, via r", TWO)),
    (trace("10.235.2.20", hops=2, via="r2"), "busybox/traceroute-2hops.txt",
     Verdict(False, "2 hops, via r2", TWO)),
    # an unused address: stars, then the sender's own "host unreachable"
    (trace("10.235.1.99", hops=1), "busybox/traceroute-unreachable.txt",
     Verdict(False, "1 hop", "10.235.1.99 not reached in 4 hops: * * * 10.235.1.10 !H")),
    # the router answers "host unreachable" for the far network: it is no arrival
    (trace("10.235.2.99", via="r"), "busybox/traceroute-remote-unreachable.txt", Verdict(
        False, "via r",
        "10.235.2.99 not reached in 5 hops: 10.235.1.254 * * * 10.235.1.254 !H")),
    (trace("dnl-test-c2", hops=1), "busybox/traceroute-by-name.txt",
     Verdict(True, "1 hop", "1 hop: 10.235.1.11")),
    (trace("no-such-host", hops=1), "busybox/traceroute-bad-address.txt",
     Verdict(False, "1 hop", "no trace: bad address 'no-such-host'")),
    (trace("10.235.241.20", hops=2, path=("10.235.240.1", "10.235.241.20")),
     "gnu/traceroute-2hops.txt",
     Verdict(True, "2 hops, path 10.235.240.1 10.235.241.20",
             "2 hops: 10.235.240.1 10.235.241.20")),
    (trace("10.235.240.1", hops=1), "gnu/traceroute-1hop.txt",
     Verdict(True, "1 hop", "1 hop: 10.235.240.1")),
    (trace("127.0.0.1", hops=1), "gnu/traceroute-loopback.txt",
     Verdict(True, "1 hop", "1 hop: 127.0.0.1")),
    (trace("10.235.250.9"), "gnu/traceroute-silent.txt",
     Verdict(False, "reaches 10.235.250.9",
             "10.235.250.9 not reached in 10 hops: * * * * * * * * * *")),
    (trace("10.235.241.99", hops=2), "gnu/traceroute-host-unreachable.txt",
     Verdict(False, "2 hops",
             "10.235.241.99 not reached in 10 hops: 10.235.240.1 * * * * * * * * *")),
    (trace("no-such-host"), "gnu/traceroute-bad-name.txt",
     Verdict(False, "reaches no-such-host", "no trace: no-such-host: Name or service not known")),
])
def test_traceroute(probe: TracerouteProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture, address=probe.target.text, addresses_of=OF) == verdict


def test_traceroute_without_header_uses_the_resolved_address() -> None:
    out = " 1  10.70.0.1  0.1 ms\n 2  10.71.0.1  0.2 ms\n 3  10.71.0.20  0.3 ms\n"
    assert judge_text(trace("10.71.0.20", hops=1), out, address="10.71.0.20") == Verdict(
        False, "1 hop", "3 hops: 10.70.0.1 10.71.0.1 10.71.0.20")


ICMP_TWO = "2 hops: 10.236.11.254 10.236.12.20"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (trace("10.236.11.11", icmp=True, hops=1), "busybox/traceroute-icmp-1hop.txt",
     Verdict(True, "1 hop", "1 hop: 10.236.11.11")),
    (trace("10.236.12.20", icmp=True, hops=2, via="10.236.11.254"),
     "busybox/traceroute-icmp-2hops.txt", Verdict(True, "2 hops, via 10.236.11.254", ICMP_TWO)),
    (trace("10.236.12.20", icmp=True, hops=1), "busybox/traceroute-icmp-2hops.txt",
     Verdict(False, "1 hop", ICMP_TWO)),
    (trace("10.236.11.99", icmp=True, max_hops=3), "busybox/traceroute-icmp-unreachable.txt",
     Verdict(False, "reaches 10.236.11.99", "10.236.11.99 not reached in 3 hops: * * *")),
])
def test_traceroute_by_icmp_echo(probe: TracerouteProbe, fixture: str,
                                 verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_icmp_adds_dash_i_to_the_command() -> None:
    from dnetlab.probes.base import Resolved
    from dnetlab.probes.registry import command_for
    script = command_for(Resolved(trace("10.236.12.20", icmp=True), "c1", "local",
                                  "10.236.12.20")).script
    assert script == "traceroute -I -n -q 1 -w 1 -m 10 10.236.12.20"
    plain = command_for(Resolved(trace("10.236.12.20"), "c1", "local", "10.236.12.20")).script
    assert plain == "traceroute -n -q 1 -w 1 -m 10 10.236.12.20"
