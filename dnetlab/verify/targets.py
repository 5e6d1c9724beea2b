"""Resolve probes against the live lab: which container or host each runs on, and the
address behind `to` (a container key, `key@network`, an IP, or a hostname). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dnetlab.model import DEFAULT_BRIDGE, Scenario
from dnetlab.probes.base import Resolved, Target
from dnetlab.probes.registry import Probe, named_containers, runs_on, target_of


@dataclass(frozen=True)
class LiveAddresses:
    """Per container key: network key -> its live IPv4 (the default bridge as "bridge")."""

    by_container: Mapping[str, Mapping[str, str]]

    def all_of(self, key: str) -> frozenset[str]:
        return frozenset(self.by_container.get(key, {}).values())


class Unresolvable(Exception):
    """The probe cannot run: its target has no address (the message says why)."""


def default_bridge_key(sc: Scenario) -> str:
    """The key Docker's default bridge goes by: an external network's that names it, else
    "bridge"."""
    return next((n.key for n in sc.networks if n.default_bridge), DEFAULT_BRIDGE)


def networks_of(sc: Scenario, key: str) -> list[str]:
    """The networks a container is on, in scenario order; Docker's default bridge (by
    `default_bridge_key`) when it declares neither networks nor a network mode."""
    c = sc.container(key)
    if c.network_mode == "bridge" or (c.network_mode is None and not c.attachments):
        return [default_bridge_key(sc)]
    return [a.network for a in c.attachments]


def resolve_target(sc: Scenario, live: LiveAddresses, source: str, t: Target) -> str:
    if t.kind in ("address", "hostname"):
        return t.text
    key = t.container or ""
    have = live.by_container.get(key, {})
    if t.kind == "container_network":
        net = t.network or ""
        if net not in have:
            raise Unresolvable(f"container {key!r} has no address on network {net!r}")
        return have[net]
    shared = [n for n in networks_of(sc, source) if n in networks_of(sc, key)]
    for net in shared:
        if net in have:
            return have[net]
    # a step may have connected them: a network both are on now
    mine = live.by_container.get(source, {})
    for net in sorted(have):
        if net in mine:
            return have[net]
    raise Unresolvable(f"container {key!r} has no address on a network it shares with "
                       f"{source!r}")


def host_of(sc: Scenario, runs_on: str) -> str:
    if runs_on.startswith("host:"):
        return runs_on[len("host:"):]
    return sc.container(runs_on).host


def resolve(sc: Scenario, live: LiveAddresses, p: Probe) -> Resolved[Probe]:
    where = runs_on(p)
    target = target_of(p)
    address = resolve_target(sc, live, where, target) if target is not None else None
    addresses_of: dict[str, frozenset[str]] = {}
    for name in named_containers(p):
        if name in live.by_container:
            addresses_of[name] = live.all_of(name)
    return Resolved(p, where, host_of(sc, where), address, addresses_of)
