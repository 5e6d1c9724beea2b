"""Past validation the scenario is frozen typed data, with defaults and expansions applied."""

from __future__ import annotations

import dataclasses
from ipaddress import IPv4Address, IPv4Network

import pytest

from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.model import Container, Scenario
from dnetlab.probes.ping import PingProbe

TEXT = """
version: 1
name: lab
networks:
  lan: {subnet: 10.10.0.0/24}
containers:
  a: {image: busybox, command: "sleep 'a b'", networks: {lan: {ipv4: 10.10.0.10}}}
  b: {image: busybox, networks: [lan], ports: ["127.0.0.1:8080:80/udp"]}
  c: {image: busybox, networks: [lan], env: {N: 1, B: true}}
probes:
  - {type: ping, from: [a, b], to: [b, c]}
  - {type: ping, from: a, to: b, name: mine}
  - {type: dns, from: a, name: b}
"""


def _scenario() -> Scenario:
    return load_source(Source("m.yaml", TEXT)).scenario


def test_everything_is_frozen() -> None:
    sc = _scenario()
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.containers[0].image = "x"  # type: ignore[misc]
    assert isinstance(sc.containers, tuple)


def test_no_raw_dicts_past_validation() -> None:
    def walk(obj: object) -> None:
        assert not isinstance(obj, dict | list | set), f"raw {type(obj).__name__} in model"
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                walk(getattr(obj, f.name))
        elif isinstance(obj, tuple):
            for item in obj:
                walk(item)

    walk(_scenario())


def test_defaults_and_parsing() -> None:
    sc = _scenario()
    a: Container = sc.container("a")
    assert a.name == "lab-a" and a.hostname == "a" and a.host == "local" and a.init is True
    assert a.command == ("sleep", "a b")
    assert a.attachments[0].ipv4 == IPv4Address("10.10.0.10")
    assert sc.network("lan").subnet == IPv4Network("10.10.0.0/24")
    assert sc.network("lan").name == "lab-lan" and sc.network("lan").hosts == ("local",)
    port = sc.container("b").ports[0]
    assert (port.host_ip, port.host_port, port.container_port, port.protocol) == (
        "127.0.0.1", 8080, 80, "udp")
    assert sc.container("c").env == (("N", "1"), ("B", "true"))


def test_lists_expand_to_every_distinct_pair() -> None:
    pings = [p for p in _scenario().probes if isinstance(p, PingProbe)]
    names = [p.name for p in pings]
    assert names == ["ping a -> b", "ping a -> c", "ping b -> c", "mine"]
    assert pings[0].target.kind == "container" and pings[0].count == 3


def test_dns_name_is_the_query() -> None:
    dns = [p for p in _scenario().probes if p.type == "dns"]
    assert dns[0].query == "b" and dns[0].name == "dns a: b"  # type: ignore[union-attr]
