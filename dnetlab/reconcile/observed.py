"""Live state as read from an engine, in plain frozen data (no Docker types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from dnetlab import labels
from dnetlab.model import Impairment, Pairs


@dataclass(frozen=True)
class LiveEndpoint:
    network_id: str
    network_name: str
    ipv4: str | None  # the live address
    ipv6: str | None
    requested_ipv4: str | None  # the IPAM config it was connected with (what we compare)
    requested_ipv6: str | None
    mac: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class LiveContainer:
    id: str
    name: str
    image: str
    state: str  # running, exited, created, ...
    labels: Pairs
    network_mode: str
    endpoints: tuple[LiveEndpoint, ...]

    def label(self, name: str) -> str | None:
        return dict(self.labels).get(name)

    @property
    def network_names(self) -> tuple[str, ...]:
        return tuple(e.network_name for e in self.endpoints)

    def endpoint(self, network_name: str) -> LiveEndpoint | None:
        return next((e for e in self.endpoints if e.network_name == network_name), None)


@dataclass(frozen=True)
class LiveNetwork:
    id: str
    name: str
    driver: str
    scope: str
    labels: Pairs
    subnets: tuple[str, ...]
    # A lab overlay's gossip peers as this engine knows them (addresses); None when not
    # read (not an overlay of a lab, or the host is in no swarm)
    peers: tuple[str, ...] | None = None
    # the containers on it (names, any host's) that the gossip has announced to this engine
    announced: tuple[str, ...] = ()

    def label(self, name: str) -> str | None:
        return dict(self.labels).get(name)


@dataclass(frozen=True)
class LiveVolume:
    name: str
    labels: Pairs


@dataclass(frozen=True)
class SwarmInfo:
    """This engine's place in a swarm, as its /info tells."""

    state: str = "inactive"  # inactive, pending, active, error, locked
    node_id: str = ""
    node_addr: str = ""
    is_manager: bool = False
    cluster_id: str = ""  # known on managers only
    labels: Pairs = ()  # the cluster's labels; managers only
    manager_addrs: tuple[str, ...] = ()  # host:port of the managers it knows
    network_drivers: tuple[str, ...] = ()  # what the engine says it can create

    @property
    def active(self) -> bool:
        return self.state == "active"

    def label(self, name: str) -> str | None:
        return dict(self.labels).get(name)


@dataclass(frozen=True)
class HostObserved:
    """Everything on one engine that the plan needs, read in a few list calls."""

    host: str
    api_version: str
    server_version: str
    containers: tuple[LiveContainer, ...]  # all containers, owned or not
    networks: tuple[LiveNetwork, ...]  # all networks
    volumes: tuple[LiveVolume, ...] = ()
    images: frozenset[str] = field(default_factory=frozenset)  # wanted images present
    swarm: SwarmInfo = field(default_factory=SwarmInfo)
    # impairments read back from containers' namespaces: (container name, network name)
    # -> what the interface carries (an empty Impairment: nothing); only containers in
    # `impairments_read` were read (the others are not judged)
    impairments: tuple[tuple[tuple[str, str], Impairment], ...] = ()
    impairments_read: frozenset[str] = frozenset()

    def impairment(self, container: str, network: str) -> Impairment | None:
        """What the container's interface on the network carries, as read; None when not
        read (or the interface was not found)."""
        return dict(self.impairments).get((container, network))

    def owned_containers(self, owner: labels.Owner) -> tuple[LiveContainer, ...]:
        return tuple(c for c in self.containers if owner.owns(dict(c.labels)))

    def owned_networks(self, owner: labels.Owner) -> tuple[LiveNetwork, ...]:
        return tuple(n for n in self.networks if owner.owns(dict(n.labels)))

    def owned_volumes(self, owner: labels.Owner) -> tuple[LiveVolume, ...]:
        return tuple(v for v in self.volumes if owner.owns(dict(v.labels)))

    def instances(self, scenario: str) -> set[str]:
        """The instances of the lab `scenario` that have objects here."""
        every: list[Pairs] = [o.labels for o in self.containers]
        every += [n.labels for n in self.networks] + [v.labels for v in self.volumes]
        return {labels.instance_of(dict(lbl)) for lbl in every
                if dict(lbl).get(labels.SCENARIO) == scenario}

    def owned_by_key(self, owner: labels.Owner) -> dict[str, LiveContainer]:
        """The owned containers by their key label (the first listed of a key), for
        callers that look up every container of a lab: one pass, not one per key."""
        out: dict[str, LiveContainer] = {}
        for c in self.owned_containers(owner):
            out.setdefault(c.label(labels.KEY) or "", c)
        return out

    # by name, made on first use (the values are frozen): looking each of a lab's names
    # up in the whole list was quadratic in the number of containers
    @cached_property
    def _containers_by_name(self) -> dict[str, LiveContainer]:
        out: dict[str, LiveContainer] = {}
        for c in self.containers:
            out.setdefault(c.name, c)
        return out

    @cached_property
    def _networks_by_name(self) -> dict[str, LiveNetwork]:
        out: dict[str, LiveNetwork] = {}
        for n in self.networks:
            out.setdefault(n.name, n)
        return out

    def container_named(self, name: str) -> LiveContainer | None:
        return self._containers_by_name.get(name)

    def network_named(self, name: str) -> LiveNetwork | None:
        return self._networks_by_name.get(name)
