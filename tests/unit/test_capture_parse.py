"""`dnetlab capture`'s pure parts: the target, the filter's checks, tcpdump's argv, the
packet count of a pcap stream fed in pieces."""

from __future__ import annotations

import struct

import pytest

from dnetlab.engine.capture import tcpdump_argv
from dnetlab.errors import UsageError
from dnetlab.lab.capture import PcapCounter, check_filter, parse_target


def test_target() -> None:
    assert parse_target("c1").iface == "any"
    assert parse_target("c1:eth0").container == "c1"
    for bad in ("c1:eth0;reboot", "c1:$(x)", "c1:-i", ":eth0", "c1:" + "e" * 16):
        with pytest.raises(UsageError):
            parse_target(bad)


def test_filter_goes_after_a_double_dash() -> None:
    argv = tcpdump_argv("any", 3, check_filter(["-w", "/etc/x"]))
    assert argv[-3:] == ["--", "-w", "/etc/x"] and argv.count("-w") == 2
    with pytest.raises(UsageError):
        check_filter(["icmp\nhost 1.2.3.4"])
    with pytest.raises(UsageError):
        check_filter(["x" * 5000])


def test_counter_counts_records_split_anywhere() -> None:
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    rec = struct.pack("<IIII", 1, 2, 5, 5) + b"hello"
    data = head + rec * 3
    for step in (1, 7, 100):
        c = PcapCounter()
        for i in range(0, len(data), step):
            c.feed(data[i:i + step])
        assert (c.packets, c.bytes) == (3, len(data))
