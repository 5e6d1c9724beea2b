"""`interfaces` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.interfaces import Interface, InterfacesProbe, parse_interfaces
from dnetlab.probes.output import SECTION
from tests.unit.probes.kit import BASE, captured, judge, judge_text


def ifaces(**kw: Any) -> InterfacesProbe:
    return InterfacesProbe(**BASE, on="c1", **kw)


# lo; eth0 10.235.3.7/24 mtu 1400; eth1 10.235.1.7/24
TWO_NETS = "busybox/ip-link-addr-two-nets.txt"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (ifaces(), TWO_NETS, Verdict(True, "interfaces listed", "interfaces: lo, eth0, eth1")),
    (ifaces(present=("eth0", "eth1")), TWO_NETS,
     Verdict(True, "present: eth0, eth1", "present: eth0, eth1")),
    (ifaces(present=("eth0", "eth2")), TWO_NETS,
     Verdict(False, "present: eth0, eth2", "missing: eth2 (have lo, eth0, eth1)")),
    (ifaces(absent=("eth2",)), TWO_NETS, Verdict(True, "absent: eth2", "absent: eth2")),
    (ifaces(absent=("eth1", "eth2")), TWO_NETS,
     Verdict(False, "absent: eth1, eth2", "present: eth1")),
    (ifaces(only=("eth0", "eth1")), TWO_NETS,
     Verdict(True, "only: eth0, eth1", "interfaces: eth0, eth1")),
    (ifaces(only=("lo", "eth1", "eth0")), TWO_NETS,
     Verdict(True, "only: lo, eth1, eth0", "interfaces: lo, eth0, eth1")),
    (ifaces(only=("eth0",)), TWO_NETS, Verdict(False, "only: eth0", "interfaces: eth0, eth1")),
    (ifaces(only=("eth0", "eth1", "eth2")), TWO_NETS,
     Verdict(False, "only: eth0, eth1, eth2", "interfaces: eth0, eth1")),
    (ifaces(addresses=(("eth0", ("10.235.3.7/24",)),)), TWO_NETS,
     Verdict(True, "eth0 10.235.3.7/24", "eth0 10.235.3.7/24")),
    (ifaces(addresses=(("eth0", ("10.235.3.7/16",)),)), TWO_NETS,
     Verdict(False, "eth0 10.235.3.7/16", "eth0 10.235.3.7/24")),
    (ifaces(addresses=(("eth1", ("10.235.3.7/24",)),)), TWO_NETS,
     Verdict(False, "eth1 10.235.3.7/24", "eth1 10.235.1.7/24")),
    (ifaces(addresses=(("eth2", ("10.235.3.7/24",)),)), TWO_NETS,
     Verdict(False, "eth2 10.235.3.7/24", "no eth2")),
    (ifaces(subnets=(("eth1", ("10.235.1.0/24",)),)), TWO_NETS,
     Verdict(True, "eth1 in 10.235.1.0/24", "eth1 10.235.1.7/24")),
    (ifaces(subnets=(("eth1", ("10.235.0.0/16",)),)), TWO_NETS,
     Verdict(True, "eth1 in 10.235.0.0/16", "eth1 10.235.1.7/24")),
    (ifaces(subnets=(("eth1", ("10.235.3.0/24",)),)), TWO_NETS,
     Verdict(False, "eth1 in 10.235.3.0/24", "eth1 10.235.1.7/24")),
    (ifaces(mac=(("eth0", "02:42:0A:EB:03:07"),)), TWO_NETS,
     Verdict(True, "eth0 mac 02:42:0a:eb:03:07", "eth0 mac 02:42:0a:eb:03:07")),
    (ifaces(mac=(("eth1", "02:42:0a:eb:03:07"),)), TWO_NETS,
     Verdict(False, "eth1 mac 02:42:0a:eb:03:07", "eth1 mac 02:42:0a:eb:01:07")),
    (ifaces(mtu=(("eth0", 1400),)), TWO_NETS, Verdict(True, "eth0 mtu 1400", "eth0 mtu 1400")),
    (ifaces(mtu=(("eth1", 1400),)), TWO_NETS, Verdict(False, "eth1 mtu 1400", "eth1 mtu 1500")),
    # several fields: a failure shows only what failed
    (ifaces(present=("eth2",), mtu=(("eth0", 1400), ("eth1", 1400)),
            mac=(("eth0", "02:42:0a:eb:03:07"),)), TWO_NETS,
     Verdict(False, "present: eth2; eth1 mtu 1400",
             "missing: eth2 (have lo, eth0, eth1); eth1 mtu 1500")),
    (ifaces(present=("eth0",), mtu=(("eth0", 1400),)), TWO_NETS,
     Verdict(True, "present: eth0; eth0 mtu 1400", "present: eth0; eth0 mtu 1400")),
    (ifaces(only=("eth0", "eth1")), "busybox/ip-link-addr-router.txt",
     Verdict(True, "only: eth0, eth1", "interfaces: eth0, eth1")),
    (ifaces(only=()), "busybox/ip-link-addr-none.txt", Verdict(True, "only: none",
                                                                 "interfaces: none")),
    (ifaces(absent=("eth0",)), "busybox/ip-link-addr-none.txt",
     Verdict(True, "absent: eth0", "absent: eth0")),
    (ifaces(addresses=(("e0", ("fd00:235:9::2/64", "10.235.9.2/24")),), mtu=(("e0", 9000),)),
     "busybox/ip-link-addr-ipv6-netns.txt",
     Verdict(True, "e0 fd00:235:9::2/64 10.235.9.2/24; e0 mtu 9000",
             "e0 10.235.9.2/24 fd00:235:9::2/64 fe80::d0ce:20ff:fe05:622a/64; e0 mtu 9000")),
    (ifaces(subnets=(("e0", ("fd00:235:9::/64",)),)), "busybox/ip-link-addr-ipv6-netns.txt",
     Verdict(True, "e0 in fd00:235:9::/64",
             "e0 10.235.9.2/24 fd00:235:9::2/64 fe80::d0ce:20ff:fe05:622a/64")),
    (ifaces(only=("a0", "d1", "d1p"), addresses=(("a0", ("10.235.252.5/24",)),),
            mac=(("a0", "62:16:AE:6A:A7:BD"),)), "gnu/ip-link-addr.txt",
     Verdict(True, "only: a0, d1, d1p; a0 10.235.252.5/24; a0 mac 62:16:ae:6a:a7:bd",
             "interfaces: a0, d1p, d1; a0 10.235.240.10/24 10.235.252.5/24 fd00:235::10/64 "
             "fe80::6016:aeff:fe6a:a7bd/64; a0 mac 62:16:ae:6a:a7:bd")),
    (ifaces(addresses=(("d1", ("10.235.253.1/24",)),)), "gnu/ip-link-addr.txt",
     Verdict(False, "d1 10.235.253.1/24", "d1 no address")),
])
def test_interfaces(probe: InterfacesProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_interfaces_names_and_flags() -> None:
    _, out = captured("gnu/ip-link-addr.txt")
    got = parse_interfaces(out)
    assert list(got) == ["lo", "a0", "d1p", "d1"]  # "a0@if2", "d1p@d1": the suffix goes
    assert (got["a0"].up, got["a0"].state, got["a0"].mtu) == (True, "UP", 1400)
    assert (got["d1"].up, got["d1"].state) == (False, "DOWN")
    _, out = captured(TWO_NETS)
    eth0 = parse_interfaces(out)["eth0"]  # busybox prints no "state"
    assert (eth0.name, eth0.up, eth0.state, eth0.mac) == ("eth0", True, None, "02:42:0a:eb:03:07")


def test_interfaces_tolerate_noise_and_peer_addresses() -> None:
    out = ("Dump was interrupted and may be inconsistent.\n"
           "7: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc noqueue state UNKNOWN\\ "
           "   link/none \n"
           f"{SECTION}\n"
           "7: wg0    inet 10.9.0.1 peer 10.9.0.2/32 scope global wg0\\       valid_lft forever\n")
    assert parse_interfaces(out) == {"wg0": Interface(
        "wg0", ("POINTOPOINT", "NOARP", "UP", "LOWER_UP"), 1420, "UNKNOWN", None,
        ("10.9.0.1/32",))}


def test_interfaces_when_ip_is_missing() -> None:
    assert judge_text(ifaces(present=("eth0",)), "sh: ip: not found", 127) == Verdict(
        False, "present: eth0", "no interfaces read: sh: ip: not found")


def test_same_as_compares_every_interface_and_address_with_the_hosts() -> None:
    from dnetlab.probes.base import Resolved
    from dnetlab.probes.registry import check
    from tests.unit.probes.kit import captured
    host = captured("busybox/ip-link-addr-host-network.txt")[1]
    mine = captured("busybox/ip-link-addr.txt")[1]
    p = InterfacesProbe(**BASE, on="c1", same_as="host:local")
    expected = "the same interfaces and addresses as host:local"

    def run(output: str, there: str) -> Verdict:
        return check(Resolved(p, "c1", "local", same_as_output=there), 0, output)

    # a container with network_mode host reads what the host's helper reads
    assert run(host, host) == Verdict(True, expected, "the same 21 interfaces as host:local")
    assert run(mine, host) == Verdict(
        False, expected, "only here: eth0 10.235.1.10/24; only on host:local: lo ::1/128, "
        "eth0 192.0.2.2/24, eth0 fd00::2/64, eth0 fe80::fc:ff:fe00:1/64, docker0 "
        "172.17.0.1/16, docker0 fe80::42:42ff:fe99:4c24/64 and 21 more")
    assert run(host, "") == Verdict(False, expected, "no interfaces read on host:local: no output")
