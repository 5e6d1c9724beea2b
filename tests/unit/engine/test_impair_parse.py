"""Reading impairments back from `ip -o link`, `tc qdisc show`, `iptables -S` as the tools
image prints them (iproute2 6.1, iptables 1.8.9 nf_tables), and the scripts that set them."""

from __future__ import annotations

from dnetlab.engine.impair import (
    CHAIN,
    READ_SCRIPT,
    apply_script,
    burst_bytes,
    parse_qdisc,
    parse_read,
)
from dnetlab.model import Impairment

SEP = "----dnetlab-impair----"
CAPTURED = f"""1: lo: mtu 65536 qdisc noqueue state UNKNOWN \\    link/loopback 00:00:00:00:00:00
94: eth0@if95: mtu 1500 qdisc tbf state UP \\    link/ether 02:42:c0:a8:60:02
96: eth1@if97: mtu 1450 qdisc noqueue state UP \\    link/ether 02:42:0a:00:01:05
{SEP}
qdisc noqueue 0: dev lo root refcnt 2
qdisc tbf 8002: dev eth0 root refcnt 3 rate 1Mbit burst 3200b lat 200ms
qdisc noqueue 0: dev eth1 root refcnt 2
{SEP}
-N {CHAIN}
-A {CHAIN} -o eth0 -m statistic --mode random --probability 0.30000000009 -j DROP
"""


def test_read_back_by_mac() -> None:
    rb = parse_read(CAPTURED)
    assert rb.macs == {"02:42:c0:a8:60:02": "eth0", "02:42:0a:00:01:05": "eth1"}
    assert rb.impairment("02:42:C0:A8:60:02") == Impairment(rate_bps=1_000_000, loss=30.0)
    assert rb.impairment("02:42:0a:00:01:05") == Impairment()
    assert rb.impairment("02:42:00:00:00:99") is None


def test_netem_line() -> None:
    line = ("qdisc netem 8003: dev eth0 root refcnt 2 limit 1000 delay 20ms  5ms "
            "rate 2Mbit")
    assert parse_qdisc(line, None) == Impairment(rate_bps=2_000_000, delay=20.0, jitter=5.0)
    assert parse_qdisc("qdisc netem 1: dev eth0 root refcnt 2 limit 1000 delay 1s", 12.5) == (
        Impairment(delay=1000.0, loss=12.5))
    # a qdisc dnetlab does not set is not an impairment of its own
    assert parse_qdisc("qdisc htb 1: dev eth0 root refcnt 2 r2q 10 default 0", None) == (
        Impairment())


def test_scripts() -> None:
    s = apply_script("02:42:AA:00:00:01", Impairment(rate_bps=1_000_000, loss=30.0))
    assert "02:42:aa:00:00:01" in s
    assert 'tc qdisc replace dev "$IF" root tbf rate 1000000bit burst 3200 latency 200ms' in s
    assert "--probability 0.300000 -j DROP" in s
    heal = apply_script("02:42:aa:00:00:01", None)
    assert "tc qdisc del" in heal and "--probability" not in heal
    netem = apply_script("02:42:aa:00:00:01", Impairment(delay=20.0, jitter=5.0))
    assert "root netem delay 20ms 5ms" in netem
    assert burst_bytes(100_000_000) == 125_000
    assert "tc qdisc show" in READ_SCRIPT and f"-S {CHAIN}" in READ_SCRIPT
