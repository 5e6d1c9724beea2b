"""Resolve probes against the live lab: which container or host each runs on, and the
address behind `to` (a container key, `key@network`, an IP, or a hostname). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dnetlab.model import (
    DEFAULT_BRIDGE,
    DnsProbe,
    HttpProbe,
    PingProbe,
    Probe,
    Scenario,
    Target,
    TcpProbe,
    TracerouteProbe,
)
from dnetlab.verify.outcome import Resolved


@dataclass(frozen=True)
class LiveAddresses:
    """Per container key: network key -> its live IPv4 (the default bridge as "bridge")."""

    by_container: Mapping[str, Mapping[str, str]]

    def all_of(self, key: str) -> frozenset[str]:
        return frozenset(self.by_container.get(key, {}).values())


class Unresolvable(Exception):
    """The probe cannot run: its target has no address (the message says why)."""


def networks_of(sc: Scenario, key: str) -> list[str]:
    """The networks a container is on, in scenario order; Docker's default bridge as
    "bridge" when it declares neither networks nor a network mode."""
    c = sc.container(key)
    if c.network_mode == "bridge" or (c.network_mode is None and not c.attachments):
        return [DEFAULT_BRIDGE]
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
    raise Unresolvable(f"container {key!r} has no address on a network it shares with "
                       f"{source!r}")


def source_of(p: Probe) -> str:
    if isinstance(p, PingProbe | DnsProbe | TcpProbe | HttpProbe | TracerouteProbe):
        return p.source
    return p.on


def host_of(sc: Scenario, runs_on: str) -> str:
    if runs_on.startswith("host:"):
        return runs_on[len("host:"):]
    return sc.container(runs_on).host


def resolve(sc: Scenario, live: LiveAddresses, p: Probe) -> Resolved:
    runs_on = source_of(p)
    address = None
    if isinstance(p, PingProbe | TcpProbe | TracerouteProbe):
        address = resolve_target(sc, live, runs_on, p.target)
    addresses_of: dict[str, frozenset[str]] = {}
    if isinstance(p, TracerouteProbe):
        for hop in (*(p.path or ()), *((p.via,) if p.via else ())):
            if hop in live.by_container:
                addresses_of[hop] = live.all_of(hop)
    return Resolved(p, runs_on, host_of(sc, runs_on), address, addresses_of)
