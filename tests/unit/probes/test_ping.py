"""`ping` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.ping import Ping, PingProbe, parse_ping
from tests.unit.probes.kit import BASE, judge, judge_text, target


def ping(to: str = "c2", **kw: Any) -> PingProbe:
    return PingProbe(**BASE, source="c1", target=target(to), **kw)


REACHABLE = "reachable (loss <= 0%)"
UNREACHABLE = "unreachable (no replies)"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (ping(), "busybox/ping-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "busybox/ping-2hops-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "busybox/ping-by-name-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "busybox/ping-unreachable.txt",
     Verdict(False, REACHABLE, "0/3 replies (100% loss)")),
    (ping(), "busybox/ping-remote-unreachable.txt",
     Verdict(False, REACHABLE, "0/3 replies (100% loss)")),
    (ping(), "busybox/ping-partial-loss.txt",
     Verdict(False, REACHABLE, "2/4 replies, 50% loss")),
    (ping(max_loss=50.0), "busybox/ping-partial-loss.txt",
     Verdict(True, "reachable (loss <= 50%)", "2/4 replies, 50% loss")),
    (ping(max_loss=49.5), "busybox/ping-partial-loss.txt",
     Verdict(False, "reachable (loss <= 49.5%)", "2/4 replies, 50% loss")),
    (ping(), "busybox/ping-bad-address.txt",
     Verdict(False, REACHABLE, "no replies: bad address 'no-such-host'")),
    (ping(expect="unreachable"), "busybox/ping-unreachable.txt",
     Verdict(True, UNREACHABLE, "0/3 replies (100% loss)")),
    (ping(expect="unreachable"), "busybox/ping-partial-loss.txt",
     Verdict(False, UNREACHABLE, "2/4 replies, 50% loss")),
    (ping(expect="unreachable"), "busybox/ping-ok.txt",
     Verdict(False, UNREACHABLE, "3/3 replies, 0% loss")),
    (ping(expect="unreachable"), "busybox/ping-bad-address.txt",
     Verdict(True, UNREACHABLE, "no replies: bad address 'no-such-host'")),
    (ping(), "gnu/ping-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "gnu/ping6-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "gnu/ping-2hops-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "gnu/ping-silent-100loss.txt",
     Verdict(False, REACHABLE, "0/5 replies (100% loss)")),
    (ping(), "gnu/ping-host-unreachable-errors.txt",
     Verdict(False, REACHABLE, "0/4 replies (100% loss), 4 ICMP errors")),
    (ping(expect="unreachable"), "gnu/ping-remote-unreachable-errors.txt",
     Verdict(True, UNREACHABLE, "0/4 replies (100% loss), 4 ICMP errors")),
    (ping(), "gnu/ping-no-route.txt",
     Verdict(False, REACHABLE, "no replies: connect: Network is unreachable")),
    (ping(expect="unreachable"), "gnu/ping-bad-name.txt",
     Verdict(True, UNREACHABLE, "no replies: no-such-host: Name or service not known")),
])
def test_ping(probe: PingProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_ping_iputils_partial_loss_with_errors() -> None:
    out = ("--- 10.0.0.9 ping statistics ---\n"
           "3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 2003ms\n")
    assert parse_ping(out) == Ping(3, 2, 33.3333, 1)
    assert judge_text(ping(max_loss=34.0), out) == Verdict(
        True, "reachable (loss <= 34%)", "2/3 replies, 33.3333% loss, 1 ICMP error")
    assert judge_text(ping(), out).passed is False


def test_ping_without_any_output() -> None:
    assert judge_text(ping(), "", 1) == Verdict(False, REACHABLE, "no replies: no output")
