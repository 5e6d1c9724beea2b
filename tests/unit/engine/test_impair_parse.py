"""Reading impairments back from `ip -o link` and `tc qdisc/class/filter show` as the tools
image prints them (iproute2 6.1), and the scripts that set them."""

from __future__ import annotations

from dnetlab.engine.impair import (
    READ_SCRIPT,
    apply_script,
    burst_bytes,
    loss_bytecode,
    parse_read,
    parse_tc,
    qdisc_commands,
)
from dnetlab.model import Impairment

SEP = "----dnetlab-impair----"
CAPTURED = f"""1: lo: mtu 65536 qdisc noqueue state UNKNOWN \\    link/loopback 00:00:00:00:00:00
94: eth0@if95: mtu 1500 qdisc tbf state UP \\    link/ether 02:42:c0:a8:60:02
96: eth1@if97: mtu 1450 qdisc htb state UP \\    link/ether 02:42:0a:00:01:05
98: eth2@if99: mtu 1450 qdisc htb state UP \\    link/ether 02:42:0a:00:02:05
{SEP}
dev eth0
qdisc tbf d1: root refcnt 3 rate 1Mbit burst 3200b lat 200ms
dev eth1
qdisc htb d1: root refcnt 2 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000
class htb d1:1 root prio 0 rate 2Mbit ceil 2Mbit burst 1600b cburst 1600b
class htb d1:2 root leaf d2: prio 0 rate 8Kbit ceil 8Kbit burst 1600b cburst 1600b
filter protocol all pref 1 bpf chain 0
filter protocol all pref 1 bpf chain 0 handle 0x1 flowid d1:2 not_in_hw bytecode \
'4,32 0 0 4294963256,53 0 1 1288490189,6 0 0 0,6 0 0 13697026'
dev eth2
qdisc htb 1: root refcnt 2 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000
dev lo
qdisc noqueue 0: root refcnt 2
"""


def test_read_back_by_mac() -> None:
    rb = parse_read(CAPTURED)
    assert rb.macs["02:42:c0:a8:60:02"] == "eth0"
    assert rb.impairment("02:42:C0:A8:60:02") == Impairment(rate_bps=1_000_000)
    assert rb.impairment("02:42:0a:00:01:05") == Impairment(rate_bps=2_000_000, loss=30.0)
    # a root qdisc with another handle is not dnetlab's
    assert rb.impairment("02:42:0a:00:02:05") == Impairment()
    assert rb.impairment("02:42:00:00:00:99") is None


def test_netem_line() -> None:
    line = ("qdisc netem d1: root refcnt 2 limit 1000 delay 20ms  5ms loss 10% "
            "rate 2Mbit")
    assert parse_tc([line]) == Impairment(rate_bps=2_000_000, delay=20.0, jitter=5.0,
                                          loss=10.0)
    assert parse_tc(["qdisc netem d1: root refcnt 2 limit 1000 delay 1s"]) == (
        Impairment(delay=1000.0))


def test_scripts() -> None:
    s = apply_script("02:42:AA:00:00:01", Impairment(rate_bps=1_000_000))
    assert "02:42:aa:00:00:01" in s
    assert ('tc qdisc add dev "$IF" root handle d1: tbf rate 1000000bit burst 3200 '
            "latency 200ms") in s
    lossy = qdisc_commands(Impairment(loss=30.0))
    assert lossy[0] == 'tc qdisc add dev "$IF" root handle d1: htb default 1'
    assert not any("classid d1:1" in c for c in lossy)  # no rate: unclassified goes direct
    assert "blackhole" in lossy[2] and loss_bytecode(30.0) in lossy[3]
    # IP packets only: ARP is never dropped (a lost reply would stall a neighbour)
    assert [c.split(" protocol ")[1].split()[0] for c in lossy[3:]] == ["ip", "ipv6"]
    assert loss_bytecode(30.0) == "4,32 0 0 4294963256,53 0 1 1288490189,6 0 0 0,6 0 0 13697026"
    heal = apply_script("02:42:aa:00:00:01", None)
    assert "tc qdisc del" in heal and "d1: " in heal
    netem = apply_script("02:42:aa:00:00:01", Impairment(delay=20.0, jitter=5.0))
    assert "root handle d1: netem delay 20ms 5ms" in netem
    assert burst_bytes(100_000_000) == 125_000
    assert "tc filter show" in READ_SCRIPT
