"""`tcp` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.tcp import TcpProbe
from tests.unit.probes.kit import BASE, judge, judge_text, target


def tcp(to: str, port: int, **kw: Any) -> TcpProbe:
    return TcpProbe(**BASE, source="c1", target=target(to), port=port, **kw)


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (tcp("10.235.1.11", 80), "busybox/nc-open.txt",
     Verdict(True, "10.235.1.11:80 open", "10.235.1.11:80 open")),
    (tcp("dnl-test-c2", 80), "busybox/nc-open-by-name.txt",
     Verdict(True, "dnl-test-c2:80 open", "dnl-test-c2:80 open")),
    (tcp("10.235.1.11", 80, expect="closed"), "busybox/nc-open.txt",
     Verdict(False, "10.235.1.11:80 closed (refused or timed out)", "10.235.1.11:80 open")),
    (tcp("10.235.1.11", 81), "busybox/nc-refused.txt",
     Verdict(False, "10.235.1.11:81 open", "10.235.1.11:81 refused")),
    (tcp("10.235.1.11", 81, expect="closed"), "busybox/nc-refused.txt",
     Verdict(True, "10.235.1.11:81 closed (refused or timed out)", "10.235.1.11:81 refused")),
    (tcp("10.235.1.99", 80, expect="closed"), "busybox/nc-timeout.txt",
     Verdict(True, "10.235.1.99:80 closed (refused or timed out)", "10.235.1.99:80 timed out")),
    (tcp("10.235.2.99", 80), "busybox/nc-remote-unreachable.txt",
     Verdict(False, "10.235.2.99:80 open", "10.235.2.99:80 timed out")),
    # the kernel accepts for a paused process; nothing closes: `timeout` ends nc
    (tcp("10.241.0.20", 80, expect="closed"), "busybox/nc-paused-peer.txt",
     Verdict(True, "10.241.0.20:80 closed (refused or timed out)",
             "10.241.0.20:80 connected, but nothing answered within 3 s (the process behind "
             "the port is paused or hung)")),
    # with -w 2 the name lookup is under the same alarm: an unanswered lookup "times out"
    (tcp("no-such-host", 80), "busybox/nc-bad-address.txt",
     Verdict(False, "no-such-host:80 open", "no-such-host:80 timed out")),
])
def test_tcp(probe: TcpProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture, address=probe.target.text) == verdict


def test_tcp_other_failures_say_what_nc_said() -> None:
    assert judge_text(tcp("x", 80), "nc: bad address 'x'", 1, "x") == Verdict(
        False, "x:80 open", "x:80 not connected: bad address 'x'")
    assert judge_text(tcp("x", 80, expect="closed"), "", 1, "x") == Verdict(
        True, "x:80 closed (refused or timed out)", "x:80 not connected (exit 1)")
