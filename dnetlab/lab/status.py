"""`status`: the lab's containers and networks as they live, and their drift."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dnetlab import labels
from dnetlab.lab.session import Session, uses_swarm
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


@dataclass(frozen=True)
class LabStatus:
    scenario: str
    containers: tuple[ContainerStatus, ...]
    networks: tuple[NetworkStatus, ...]
    plan: Plan

    @property
    def up_to_date(self) -> bool:
        return self.plan.empty

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "up_to_date": self.up_to_date,
            "containers": [
                {"key": c.key, "name": c.name, "host": c.host, "state": c.state,
                 "image": c.image, "drift": list(c.drift),
                 "networks": [{"network": e.network, "ipv4": e.ipv4, "ipv6": e.ipv6,
                               "mac": e.mac} for e in c.endpoints]}
                for c in self.containers],
            "networks": [
                {"key": n.key, "name": n.name, "host": n.host, "driver": n.driver,
                 "subnets": list(n.subnets), "state": n.state, "drift": list(n.drift)}
                for n in self.networks],
            "pending_changes": [op.describe() for op in self.plan.ops],
        }


def status(sc: Scenario) -> LabStatus:
    session = Session.open(sc.hosts)
    try:
        desired = desired_state(sc)
        observed = session.observe(desired, swarm=uses_swarm(sc.hosts))
    finally:
        session.close()
    plan = reconcile(sc.name, desired, observed, sc.hosts)
    causes: dict[tuple[str, str], list[str]] = {}
    for op in plan.ops:
        if op.action != "pull-image":
            causes.setdefault((op.host, op.name), []).append(op.describe())
    containers = []
    networks = []
    for host, d in desired.items():
        o = observed[host]
        owned = {c.label(labels.KEY): c for c in o.owned_containers(sc.name)}
        for spec in d.containers:
            live = owned.get(spec.key)
            containers.append(ContainerStatus(
                spec.key, spec.name, host, live.state if live else "missing",
                live.image if live else spec.image,
                tuple(EndpointStatus(e.network_name, e.ipv4, e.ipv6, e.mac)
                      for e in (live.endpoints if live else ())),
                tuple(causes.get((host, spec.name), ()))))
        owned_nets = {n.label(labels.KEY): n for n in o.owned_networks(sc.name)}
        for ns in d.networks:
            net = owned_nets.get(ns.key)
            networks.append(NetworkStatus(
                ns.key, ns.name, host, net.driver if net else ns.driver,
                net.subnets if net else tuple(s for s, _, _ in ns.ipam),
                "present" if net else "missing", tuple(causes.get((host, ns.name), ()))))
    return LabStatus(sc.name, tuple(containers), tuple(networks), plan)
