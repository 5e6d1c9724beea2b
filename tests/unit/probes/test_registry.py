"""The registry, the JSON Schema and the probe modules agree, and a probe of every type
goes from the file to its command: what adding a probe type must keep true."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.load.pipeline import load_source
from dnetlab.load.schema import schema
from dnetlab.load.source import Source
from dnetlab.probes.base import Resolved, Verdict
from dnetlab.probes.registry import KINDS, Probe, check, command_for, kind_named, kind_of
from dnetlab.verify.targets import LiveAddresses, resolve


def test_the_schema_and_the_registry_name_the_same_types() -> None:
    probe = schema()["$defs"]["probe"]
    assert probe["properties"]["type"]["enum"] == list(KINDS)
    branches = {b["if"]["properties"]["type"]["const"]: b["then"]["$ref"]
                for b in probe["allOf"]}
    assert branches == {t: f"#/$defs/probe_{t}" for t in KINDS}
    assert all(f"probe_{t}" in schema()["$defs"] for t in KINDS)


@pytest.mark.parametrize("type_name", list(KINDS))
def test_each_kind_is_its_dataclass(type_name: str) -> None:
    kind = KINDS[type_name]
    assert kind.type_name == type_name
    assert kind.probe.type == type_name  # type: ignore[attr-defined]
    assert kind.probe.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_what_is_no_type_names_no_kind() -> None:
    assert kind_named("pnig") is None
    assert kind_named(["ping"]) is None
    assert kind_named(3) is None
    assert kind_named("ping") is KINDS["ping"]


EVERY_TYPE = """
version: 1
name: lab
networks:
  lan: {subnet: 10.10.0.0/24}
containers:
  a: {image: busybox, networks: {lan: {ipv4: 10.10.0.10}}}
  b: {image: busybox, networks: {lan: {ipv4: 10.10.0.11}}}
probes:
  - {type: ping, from: a, to: b, count: 2}
  - {type: dns, from: a, name: b, address: 10.10.0.11}
  - {type: tcp, from: a, to: b@lan, port: 80}
  - {type: http, from: a, url: "http://b/x y"}
  - {type: traceroute, from: a, to: 10.10.0.11, max_hops: 4, path: [b]}
  - {type: interfaces, on: a, present: [eth0]}
  - {type: routes, on: a, default_via: 10.10.0.1}
  - {type: file, on: a, path: /etc/hosts, contains: b}
  - {type: exec, on: a, command: "echo 'a b'"}
"""

# The exact commands, as dnetlab has always written them: the integration tests and the
# captures in tests/captured/ depend on them.
COMMANDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "ping a -> b": ("ping -c 2 -A -W 1 -w 4 10.10.0.11", ("ping",), False),
    "dns a: b": ("nslookup b", ("nslookup",), False),
    "tcp a -> b@lan:80": ("timeout 3 nc -w 2 10.10.0.11 80 </dev/null", ("timeout", "nc"),
                          False),
    "http a: http://b/x y": (
        'b=$(mktemp 2>/dev/null || echo /tmp/.dnetlab-body.$$); timeout 5 wget -S -O "$b" '
        "'http://b/x y' 2>&1; rc=$?; echo @@dnetlab-section; cat \"$b\" 2>/dev/null; "
        'rm -f "$b"; exit $rc', ("wget", "timeout"), False),
    "traceroute a -> 10.10.0.11": ("traceroute -n -q 1 -w 1 -m 4 10.10.0.11", ("traceroute",),
                                   False),
    "interfaces a": ("ip -o link show; echo @@dnetlab-section; ip -o addr show", ("ip",),
                     False),
    "routes a": ("ip route show", ("ip",), False),
    "file a:/etc/hosts": ("cat /etc/hosts", ("cat",), True),
    "exec a: echo 'a b'": ("echo 'a b'", (), True),
}


def _resolved() -> list[Resolved[Probe]]:
    sc = load_source(Source("every.yaml", EVERY_TYPE)).scenario
    live = LiveAddresses({"a": {"lan": "10.10.0.10"}, "b": {"lan": "10.10.0.11"}})
    return [resolve(sc, live, p) for p in sc.probes]


def test_every_type_is_in_the_file_above() -> None:
    assert [r.probe.type for r in _resolved()] == list(KINDS)


@pytest.mark.parametrize("r", _resolved(), ids=lambda r: str(r.probe.type))
def test_every_type_runs_its_exact_command(r: Resolved[Probe]) -> None:
    c = command_for(r)
    assert (c.script, c.tools, c.needs_target) == COMMANDS[r.name]
    assert r.runs_on == "a" and r.host == "local"


@pytest.mark.parametrize("r", _resolved(), ids=lambda r: str(r.probe.type))
def test_every_type_judges_any_output_without_raising(r: Resolved[Probe]) -> None:
    outputs: list[tuple[int, Any]] = [(0, ""), (1, "garbage\n\x00"), (127, "sh: x: not found")]
    for code, output in outputs:
        assert isinstance(check(r, code, output), Verdict)
    assert kind_of(r.probe) is KINDS[r.probe.type]


def test_a_traceroute_gets_the_addresses_of_the_containers_its_path_names() -> None:
    trace = next(r for r in _resolved() if r.probe.type == "traceroute")
    assert trace.address == "10.10.0.11"
    assert dict(trace.addresses_of) == {"b": frozenset({"10.10.0.11"})}
