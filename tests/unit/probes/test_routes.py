"""`routes` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.routes import Route, RoutesProbe, parse_routes
from tests.unit.probes.kit import BASE, judge, judge_text


def routes(**kw: Any) -> RoutesProbe:
    return RoutesProbe(**BASE, on="c1", **kw)


ROUTES = "busybox/ip-route.txt"  # default via .1.1; 10.235.1.0/24 dev eth0; .2.0/24 via .1.254
DEFAULT = "default via 10.235.1.1 dev eth0"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (routes(), ROUTES, Verdict(True, "a routing table", "3 routes")),
    (routes(default_via="10.235.1.1"), ROUTES, Verdict(True, "default via 10.235.1.1", DEFAULT)),
    (routes(default_via="10.235.1.254"), ROUTES,
     Verdict(False, "default via 10.235.1.254", DEFAULT)),
    (routes(default_via="none"), ROUTES, Verdict(False, "no default route", DEFAULT)),
    (routes(default_via="none"), "busybox/ip-route-none.txt",
     Verdict(True, "no default route", "no default route")),
    (routes(default_via="10.235.1.1"), "busybox/ip-route-none.txt",
     Verdict(False, "default via 10.235.1.1", "no default route")),
    (routes(default_via="none"), "gnu/ip-route-no-default.txt",
     Verdict(True, "no default route", "no default route")),
    (routes(contains=("10.235.2.0/24 via 10.235.1.254",)), ROUTES,
     Verdict(True, "route 10.235.2.0/24 via 10.235.1.254",
             "10.235.2.0/24 via 10.235.1.254 dev eth0")),
    (routes(contains=("10.235.2.0/24 via 10.235.1.253",)), ROUTES,
     Verdict(False, "route 10.235.2.0/24 via 10.235.1.253",
             "10.235.2.0/24 via 10.235.1.254 dev eth0")),
    (routes(contains=("10.235.1.0/24 dev eth0", "10.235.2.0/24")), ROUTES,
     Verdict(True, "route 10.235.1.0/24 dev eth0; route 10.235.2.0/24",
             "10.235.1.0/24 dev eth0; 10.235.2.0/24 via 10.235.1.254 dev eth0")),
    (routes(contains=("10.235.1.0/24 dev eth1",)), ROUTES,
     Verdict(False, "route 10.235.1.0/24 dev eth1", "10.235.1.0/24 dev eth0")),
    (routes(contains=("10.235.9.0/24",)), ROUTES,
     Verdict(False, "route 10.235.9.0/24", "no route for 10.235.9.0/24")),
    (routes(contains=("default via 10.235.1.1", "default dev eth0")), ROUTES,
     Verdict(True, "route default via 10.235.1.1; route default dev eth0",
             f"{DEFAULT}; {DEFAULT}")),
    (routes(default_via="10.235.1.1", contains=("10.235.3.0/24 dev eth0",)),
     "busybox/ip-route-two-nets.txt",
     Verdict(True, "default via 10.235.1.1; route 10.235.3.0/24 dev eth0",
             "default via 10.235.1.1 dev eth1; 10.235.3.0/24 dev eth0")),
    (routes(default_via="10.235.9.1", contains=("10.235.9.0/24 dev e0",)),
     "busybox/ip-route-ipv6-netns.txt",
     Verdict(True, "default via 10.235.9.1; route 10.235.9.0/24 dev e0",
             "default via 10.235.9.1 dev e0; 10.235.9.0/24 dev e0")),
    (routes(default_via="10.235.240.1", contains=("10.235.252.0/24 dev a0",)),
     "gnu/ip-route.txt",
     Verdict(True, "default via 10.235.240.1; route 10.235.252.0/24 dev a0",
             "default via 10.235.240.1 dev a0; 10.235.252.0/24 dev a0")),
    (routes(default_via="none", contains=("10.235.250.0/24",)), "gnu/ip-route-router.txt",
     Verdict(True, "no default route; route 10.235.250.0/24",
             "no default route; blackhole 10.235.250.0/24")),
])
def test_routes(probe: RoutesProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_routes_multipath_and_host_routes() -> None:
    out = ("default proto static metric 1024\n"
           "\tnexthop via 10.0.0.1 dev eth0 weight 1\n"
           "\tnexthop via 10.0.1.1 dev eth1 weight 1\n"
           "10.9.0.7 via 10.0.0.2 dev eth0\n")
    assert parse_routes(out).routes == (
        Route("default", "10.0.0.1", "eth0"), Route("default", "10.0.1.1", "eth1"),
        Route("10.9.0.7/32", "10.0.0.2", "eth0"))
    assert judge_text(routes(default_via="10.0.1.1", contains=("10.9.0.7/32 via 10.0.0.2",)),
                      out).passed


def test_same_as_compares_the_whole_table_with_the_hosts_in_any_order() -> None:
    from dnetlab.probes.base import Resolved
    from dnetlab.probes.registry import check
    from tests.unit.probes.kit import captured
    host = captured("busybox/ip-route-host-network.txt")[1]
    mine = captured("busybox/ip-route.txt")[1]
    p = RoutesProbe(**BASE, on="c1", same_as="host:local")
    expected = "the same routes as host:local"

    def run(output: str, there: str) -> Verdict:
        return check(Resolved(p, "c1", "local", same_as_output=there), 0, output)

    assert run(host, host) == Verdict(True, expected, "the same 7 routes as host:local")
    shuffled = "\n".join(reversed(host.splitlines()))
    assert run(host, shuffled).passed
    assert run(mine, host) == Verdict(
        False, expected, "only here: default via 10.235.1.1 dev eth0, 10.235.1.0/24 dev eth0, "
        "10.235.2.0/24 via 10.235.1.254 dev eth0; only on host:local: default via 192.0.2.1 "
        "dev eth0, 10.99.0.0/24 dev dnl-tb0, 10.99.1.0/24 via 10.99.0.253 dev dnl-tb0, "
        "10.236.11.0/24 dev br-79f4742c33e1, 10.236.12.0/24 dev br-519b0b66c1c0, "
        "172.17.0.0/16 dev docker0 and 1 more")
    assert run(host, "sh: ip: not found") == Verdict(
        False, expected, "no routes read on host:local: sh: ip: not found")
