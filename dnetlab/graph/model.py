"""The lab's topology as a frozen graph, built from the scenario alone (no engine).

Hosts are groups; networks and containers are nodes; each attachment is an edge that
carries the container's address on that network and its impairment, when one is declared.
A network that lives on one host belongs to that host's group; one that spans hosts (an
overlay) belongs to none. Containers on Docker's default bridge, or on the host's own
network, are attached to a network node made for them on their host, so that every
container's connectivity is on the picture (what containerlab's graph leaves out).
An external network (used, not owned) gets a node per host that uses it, marked
"external"; Docker's default bridge named as one is the same node as the default bridge
of the containers that declare no network.

When the last verify's report is given, each probe's outcome is kept, and a failed
probe becomes an edge from the container it ran in to the container it aimed at.
Every renderer (mermaid, dot, json, html) reads only this model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dnetlab.model import DEFAULT_BRIDGE, Container, Network, Scenario
from dnetlab.probes.registry import runs_on, target_of

# "external": a network the lab uses but does not own (spec 10.2), one node per host
NetworkKind = Literal["declared", "default-bridge", "host", "external"]


@dataclass(frozen=True)
class GraphHost:
    id: str
    key: str
    engine: str  # as the file wrote it; "local" for the local engine


@dataclass(frozen=True)
class GraphNetwork:
    id: str
    key: str  # the scenario's key; for a made-up node, "bridge@HOST" or "host@HOST"
    label: str  # what the picture shows: key, driver and subnet
    kind: NetworkKind
    driver: str
    subnet: str | None
    host: str | None  # the host's key when it lives on one host only, else None
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class GraphContainer:
    id: str
    key: str
    name: str  # the Docker name
    host: str
    image: str
    failed: bool = False  # a probe that ran in it failed (or could not run) last verify


@dataclass(frozen=True)
class Attachment:
    container: str  # node ids
    network: str
    address: str | None  # "10.0.0.5", "10.0.0.5, fd00::5", or None (dynamic)
    impairment: str | None  # Impairment.describe(), when one is declared

    @property
    def label(self) -> str:
        parts = [self.address or "dynamic"]
        if self.impairment:
            parts.append(self.impairment)
        return "; ".join(parts)


@dataclass(frozen=True)
class ProbeOutcome:
    """A probe of the last verify: where it ran and, when it aimed at a container, which
    (node ids, or None when it ran on a host or aimed at an address or a name)."""

    name: str
    type: str
    status: str  # passed, failed, error
    actual: str
    source: str | None
    target: str | None
    target_text: str | None


@dataclass(frozen=True)
class Graph:
    lab: str
    description: str
    hosts: tuple[GraphHost, ...]
    networks: tuple[GraphNetwork, ...]
    containers: tuple[GraphContainer, ...]
    attachments: tuple[Attachment, ...]
    probes: tuple[ProbeOutcome, ...] = ()
    verified: bool = False  # a verify report was given (probes may still be empty)

    @property
    def failed_probes(self) -> tuple[ProbeOutcome, ...]:
        return tuple(p for p in self.probes if p.status != "passed")

    def count(self, status: str) -> int:
        return sum(1 for p in self.probes if p.status == status)


def _address(c: Container, network: str) -> str | None:
    a = c.attachment(network)
    if a is None:
        return None
    found = [str(x) for x in (a.ipv4, a.ipv6) if x is not None]
    return ", ".join(found) or None


def build(sc: Scenario, report: Mapping[str, Any] | None = None) -> Graph:
    """The graph of `sc`; `report`: the last verify's JSON report (verify's contract
    shape, spec section 9), read leniently: what it lacks is left out, not an error."""
    hosts = tuple(GraphHost(f"h{i}", h.key, h.engine or "local")
                  for i, h in enumerate(sc.hosts))
    networks: list[GraphNetwork] = []
    net_ids: dict[str, str] = {}
    for n in sc.networks:
        if n.external:
            continue  # a node per host that uses it, below
        net_ids[n.key] = f"n{len(networks)}"
        subnet = str(n.subnet) if n.subnet is not None else None
        label = " ".join(x for x in (n.key, f"({n.driver})", subnet) if x)
        networks.append(GraphNetwork(net_ids[n.key], n.key, label, "declared", n.driver,
                                     subnet, n.hosts[0] if len(n.hosts) == 1 else None,
                                     n.hosts))

    bridge_external = next((n for n in sc.networks if n.default_bridge), None)

    def external(n: Network, host: str) -> str:
        key = f"{DEFAULT_BRIDGE if n.default_bridge else n.key}@{host}"
        if key not in net_ids:
            net_ids[key] = f"n{len(networks)}"
            subnet = str(n.subnet) if n.subnet is not None else None
            what = "external, Docker's default bridge" if n.default_bridge else (
                "external" if n.name == n.key else f"external {n.name}")
            label = " ".join(x for x in (n.key, f"({what})", subnet) if x)
            networks.append(GraphNetwork(net_ids[key], key, label, "external",
                                         "bridge" if n.default_bridge else "external",
                                         subnet, host, (host,)))
        return net_ids[key]

    def made_up(kind: NetworkKind, host: str) -> str:
        if kind == "default-bridge" and bridge_external is not None:
            return external(bridge_external, host)  # one network: one node
        # Docker's default bridge and the host's network are per host: one node each
        key = f"{DEFAULT_BRIDGE if kind == 'default-bridge' else 'host'}@{host}"
        if key not in net_ids:
            net_ids[key] = f"n{len(networks)}"
            label = (f"default bridge on {host}" if kind == "default-bridge"
                     else f"host network of {host}")
            networks.append(GraphNetwork(net_ids[key], key, label, kind,
                                         "bridge" if kind == "default-bridge" else "host",
                                         None, host, (host,)))
        return net_ids[key]

    by_key = {n.key: n for n in sc.networks}
    results = _results(report)
    cont_ids = {c.key: f"c{i}" for i, c in enumerate(sc.containers)}
    probes = _outcomes(sc, results, cont_ids) if report is not None else ()
    failed_in = {p.source for p in probes if p.status != "passed"}
    containers: list[GraphContainer] = []
    attachments: list[Attachment] = []
    for c in sc.containers:
        cid = cont_ids[c.key]
        containers.append(GraphContainer(cid, c.key, c.name, c.host, c.image,
                                         failed=cid in failed_in))
        if c.network_mode == "host":
            attachments.append(Attachment(cid, made_up("host", c.host), None, None))
        elif c.on_default_bridge:
            attachments.append(Attachment(cid, made_up("default-bridge", c.host), None, None))
        for a in c.attachments:
            impair = a.impair.describe() if a.impair is not None and not a.impair.empty \
                else None
            n = by_key[a.network]
            node = external(n, c.host) if n.external else net_ids[a.network]
            attachments.append(Attachment(cid, node, _address(c, a.network), impair))
    return Graph(sc.name, sc.description, hosts, tuple(networks), tuple(containers),
                 tuple(attachments), probes, verified=report is not None)


def _results(report: Mapping[str, Any] | None) -> dict[str, dict[str, str]]:
    """The report's probes by name (the static ones and the steps'), each reduced to
    text fields; anything not shaped as verify writes it is skipped."""
    if not isinstance(report, Mapping):
        return {}
    found: dict[str, dict[str, str]] = {}
    lists = [report.get("probes")]
    steps = report.get("steps")
    if isinstance(steps, list):
        lists += [s.get("probes") for s in steps if isinstance(s, Mapping)]
    for probes in lists:
        if not isinstance(probes, list):
            continue
        for p in probes:
            if not isinstance(p, Mapping) or not isinstance(p.get("name"), str):
                continue
            # a probe that failed anywhere (static or in a step) stays failed on the graph
            if p["name"] in found and found[p["name"]]["status"] != "passed":
                continue
            found[p["name"]] = {k: str(p.get(k, "")) for k in
                                ("name", "type", "status", "actual", "runs_on")}
    return found


def _outcomes(sc: Scenario, results: dict[str, dict[str, str]],
              cont_ids: dict[str, str]) -> tuple[ProbeOutcome, ...]:
    declared = {p.name: p for p in sc.probes}
    for step in sc.steps:
        for p in step.probes:
            declared.setdefault(p.name, p)
    out = []
    for name, r in results.items():
        target_id = target_text = None
        probe = declared.get(name)
        if probe is not None:
            target = target_of(probe)
            if target is not None:
                target_text = target.text
                target_id = cont_ids.get(target.container or "")
            source = runs_on(probe)
        else:  # an --auto probe, or one of an older file: where it ran is all we know
            source = r["runs_on"]
        out.append(ProbeOutcome(name, r["type"], r["status"], r["actual"],
                                cont_ids.get(source), target_id, target_text))
    return tuple(out)
