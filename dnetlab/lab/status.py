"""`status`: the lab's containers and networks as they live, and their drift."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnetlab import labels
from dnetlab.lab import impair, instance
from dnetlab.lab.session import Session, uses_swarm
from dnetlab.labels import Owner
from dnetlab.model import Scenario
from dnetlab.reconcile.desired import desired_state
from dnetlab.reconcile.plan import Plan, reconcile


@dataclass(frozen=True)
class EndpointStatus:
    network: str
    ipv4: str | None
    ipv6: str | None
    mac: str | None


@dataclass(frozen=True)
class ContainerStatus:
    key: str
    name: str
    host: str
    state: str  # running, exited, ..., or "missing"
    image: str
    endpoints: tuple[EndpointStatus, ...]
    drift: tuple[str, ...]


@dataclass(frozen=True)
class NetworkStatus:
    key: str
    name: str
    host: str
    driver: str
    subnets: tuple[str, ...]
    state: str  # present / missing
    drift: tuple[str, ...]
    external: bool = False  # used, not owned: never created, changed or removed


@dataclass(frozen=True)
class LabStatus:
    scenario: str
    containers: tuple[ContainerStatus, ...]
    networks: tuple[NetworkStatus, ...]
    plan: Plan
    owner: Owner  # the recorded instance, or any instance (no record of the lab here)
    instances: tuple[str, ...] = ()  # the instances of the lab found on its hosts

    @property
    def up_to_date(self) -> bool:
        return self.plan.empty

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "instance": self.owner.instance,  # null: no record here, any instance shown
            "instances": list(self.instances),
            "up_to_date": self.up_to_date,
            "containers": [
                {"key": c.key, "name": c.name, "host": c.host, "state": c.state,
                 "image": c.image, "drift": list(c.drift),
                 "networks": [{"network": e.network, "ipv4": e.ipv4, "ipv6": e.ipv6,
                               "mac": e.mac} for e in c.endpoints]}
                for c in self.containers],
            "networks": [
                {"key": n.key, "name": n.name, "host": n.host, "driver": n.driver,
                 "subnets": list(n.subnets), "state": n.state, "drift": list(n.drift),
                 "external": n.external}
                for n in self.networks],
            "pending_changes": [op.describe() for op in self.plan.ops],
        }


def status(sc: Scenario, owner: Owner | None = None,
           record_root: Path | None = None) -> LabStatus:
    """The lab as it lives. `owner` defaults to the instance recorded here, else any
    instance of the lab's name (a lab brought up elsewhere, shown as such)."""
    owner = owner or instance.owner_here(sc.name, record_root)
    session = Session.open(sc.hosts)
    try:
        desired = desired_state(sc, owner.instance or "",
                                impair.deployed(sc.name, record_root))
        observed = session.observe(desired, swarm=uses_swarm(sc.hosts))
        impair.observe_impairments(session, desired, observed, owner)
    finally:
        session.close()
    plan = reconcile(owner, desired, observed, sc.hosts)
    causes: dict[tuple[str, str], list[str]] = {}
    for op in plan.ops:
        if op.action != "pull-image":
            causes.setdefault((op.host, op.name), []).append(op.describe())
    containers = []
    networks = []
    for host, d in desired.items():
        o = observed[host]
        owned = {c.label(labels.KEY): c for c in o.owned_containers(owner)}
        for spec in d.containers:
            live = owned.get(spec.key)
            containers.append(ContainerStatus(
                spec.key, spec.name, host, live.state if live else "missing",
                live.image if live else spec.image,
                tuple(EndpointStatus(e.network_name, e.ipv4, e.ipv6, e.mac)
                      for e in (live.endpoints if live else ())),
                tuple(causes.get((host, spec.name), ()))))
        owned_nets = {n.label(labels.KEY): n for n in o.owned_networks(owner)}
        for ns in d.networks:
            net = owned_nets.get(ns.key)
            networks.append(NetworkStatus(
                ns.key, ns.name, host, net.driver if net else ns.driver,
                net.subnets if net else tuple(s for s, _, _ in ns.ipam),
                "present" if net else "missing", tuple(causes.get((host, ns.name), ()))))
        for x in d.externals:
            found = o.network_named(x.name)
            networks.append(NetworkStatus(
                x.key, x.name, host, found.driver if found else "-",
                found.subnets if found else (), "present" if found else "missing", (),
                external=True))
    seen = sorted({i for o in observed.values() for i in o.instances(sc.name)})
    return LabStatus(sc.name, tuple(containers), tuple(networks), plan, owner, tuple(seen))
