"""External networks (spec 10.2) outside the plan: what loading makes of them, the graph
marking them, probe targets and `verify --auto` treating an external `bridge` as Docker's
default bridge (the plan's side is tests/unit/reconcile/test_external_plan.py; refused
files are tests/bad/net-external.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

from dnetlab.graph import render
from dnetlab.graph.model import build
from dnetlab.load.pipeline import load, load_source
from dnetlab.load.source import Source
from dnetlab.model import Scenario
from dnetlab.probes.base import Target
from dnetlab.verify.auto import derived
from dnetlab.verify.targets import LiveAddresses, Unresolvable, networks_of, resolve_target
from tests.unit.graph.mermaid_parse import parse

ROOT = Path(__file__).resolve().parents[3]

LAB = """
version: 1
name: ext
networks:
  lan: {subnet: 10.40.0.0/24}
  default: {external: true, name: bridge}
  team: {external: true, name: team-net}
containers:
  a: {image: busybox, networks: {lan: {ipv4: 10.40.0.10}, default: {}}}
  b: {image: busybox, networks: [lan]}
  c: {image: busybox}
  d: {image: busybox, networks: [team]}
probes:
  - {type: ping, from: a, to: c}
  - {type: ping, from: a, to: c@default}
"""


def _sc(text: str = LAB) -> Scenario:
    return load_source(Source("ext.yaml", text)).scenario


def test_loading_names_an_external_network_as_it_is() -> None:
    sc = _sc()
    assert sc.network("team").name == "team-net" and sc.network("team").external
    assert sc.network("default").default_bridge and not sc.network("team").default_bridge
    assert not sc.network("lan").external and sc.network("lan").name == "ext-lan"
    # without `name`, the key is the Docker name (Compose's rule)
    sc2 = _sc(LAB.replace("default: {external: true, name: bridge}",
                          "bridge: {external: true}").replace("default:", "bridge:")
              .replace("c@default", "c@bridge"))
    assert sc2.network("bridge").name == "bridge" and sc2.network("bridge").default_bridge


def test_the_graph_marks_them_external_and_draws_the_default_bridge_once() -> None:
    g = build(_sc())
    external = {n.key: n for n in g.networks if n.kind == "external"}
    assert set(external) == {"bridge@local", "team@local"}
    assert "external" in external["team@local"].label
    assert "default bridge" in external["bridge@local"].label
    assert not [n for n in g.networks if n.kind == "default-bridge"]  # c is on the same node
    cs = {c.id: c.key for c in g.containers}
    on_bridge = {cs[a.container] for a in g.attachments
                 if a.network == external["bridge@local"].id}
    assert on_bridge == {"a", "c"}
    text = render(g, "mermaid")
    assert len(parse(text).networks) == len(g.networks)
    data = json.loads(render(g, "json"))
    assert {n["kind"] for n in data["networks"]} == {"declared", "external"}
    assert "dashed" in render(g, "dot")  # not the lab's: drawn dashed


def test_targets_on_the_default_bridge_by_its_external_key() -> None:
    sc = _sc()
    assert networks_of(sc, "c") == ["default"]
    live = LiveAddresses({"a": {"lan": "10.40.0.10", "default": "172.17.0.5"},
                          "c": {"default": "172.17.0.6"}, "b": {"lan": "10.40.0.11"}})
    assert resolve_target(sc, live, "a", Target("c", "container", container="c")) \
        == "172.17.0.6"
    assert resolve_target(sc, live, "c", Target("a@default", "container_network", "a",
                                                "default")) == "172.17.0.5"
    try:
        resolve_target(sc, live, "b", Target("c", "container", container="c"))
    except Unresolvable as exc:
        assert "shares" in str(exc)
    else:
        raise AssertionError("b shares no network with c")


def test_auto_reaches_over_the_default_bridge_and_keeps_unknown_drivers_out() -> None:
    names = {p.name: p.expect for p in derived(_sc())}  # type: ignore[union-attr]
    # a and c share the default bridge: by address (it resolves no names)
    assert names["auto: a -> c@default"] == "reachable"
    assert names["auto: c -> a@default"] == "reachable"
    assert names["auto: a -> b@lan"] == "reachable"
    # b (lan) and c (default bridge): bridges, which Docker keeps apart
    assert names["auto: b -/-> c@default"] == "unreachable"
    # team-net's driver is unknown: no claim that it is isolated from anything
    assert not [n for n in names if n.startswith("auto: d") or n.endswith("d@team")]


def test_the_standalone_tutorial_validates_clean(run_cli) -> None:  # type: ignore[no-untyped-def]
    path = ROOT / "scenarios" / "docker-docs" / "standalone.yaml"
    code, out, err = run_cli("validate", str(path))
    assert (code, err) == (0, ""), err
    assert "6 container(s), 25 probe(s)" in out
    sc = load(str(path)).scenario
    assert sc.network("bridge").default_bridge
    assert [a.network for a in sc.container("alpine4").attachments] == ["alpine-net", "bridge"]
