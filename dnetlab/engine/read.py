"""What is on a host's engine: its containers, networks, volumes, wanted images and swarm
state, read in a few list calls (nothing is inspected one by one) and turned into the
`reconcile.observed` types."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from dnetlab import labels
from dnetlab.engine.connect import Connection
from dnetlab.engine.images import normalise_ref
from dnetlab.engine.swarm import swarm_info
from dnetlab.reconcile.observed import (
    HostObserved,
    LiveContainer,
    LiveEndpoint,
    LiveNetwork,
    LiveVolume,
    SwarmInfo,
)


def observe(conn: Connection, images: Iterable[str], swarm: bool) -> HostObserved:
    containers = tuple(live_container(c) for c in conn.read(
        "containers", "/containers/json?all=1", lambda: conn.api.containers(all=True)))
    networks = tuple(live_network(n) for n in conn.read(
        "networks", "/networks", lambda: conn.api.networks()))
    label_filter = {"label": ["dnetlab.scenario"]}
    raw = conn.read(
        "volumes", "/volumes?filters=" + urllib.parse.quote(json.dumps(label_filter)),
        lambda: conn.api.volumes(filters={"label": "dnetlab.scenario"}),
    ).get("Volumes") or []
    volumes = tuple(LiveVolume(v["Name"], tuple((v.get("Labels") or {}).items()))
                    for v in raw)
    wanted = list(images)
    present: set[str] = set()
    if wanted:
        listed = conn.read("images", "/images/json", lambda: conn.api.images())
        tags = {t for img in listed for t in (img.get("RepoTags") or [])}
        present = {ref for ref in wanted if normalise_ref(ref) in tags}
    swarm_state = swarm_info(conn) if swarm else SwarmInfo()
    if swarm_state.active:
        networks = tuple(_with_peers(conn, n) for n in networks)
    return HostObserved(conn.host.key, conn.api_version, conn.server_version, containers,
                        networks, volumes, frozenset(present), swarm_state)


def _with_peers(conn: Connection, net: LiveNetwork) -> LiveNetwork:
    """A lab overlay with the gossip peers this engine knows for it: a host whose swarm
    gossip never started (see docs/multihost.md) lists none, not even itself, while the
    network still shows and containers attach to it without an error."""
    if net.driver != "overlay" or net.scope != "swarm" or not net.label(labels.SCENARIO):
        return net
    peers, announced = overlay_gossip(conn, net.id, net.name)
    return replace(net, peers=peers, announced=announced)


def overlay_gossip(conn: Connection, net_id: str, name: str) -> tuple[tuple[str, ...],
                                                                        tuple[str, ...]]:
    """What this engine's gossip knows of a swarm overlay: its peers' addresses, and the
    names of the containers on it, on any host (verbose inspect lists them as the tasks
    of the service "" when they are plain containers)."""
    raw = conn.read(f"network {name}", f"/networks/{net_id}?verbose=true",
                    lambda: conn.api.inspect_network(net_id, verbose=True))
    peers = tuple(str(p.get("IP") or "") for p in raw.get("Peers") or ())
    announced = tuple(str(t.get("Name") or "") for svc in (raw.get("Services") or {}).values()
                      for t in (svc or {}).get("Tasks") or ())
    return peers, announced


def live_container(raw: dict[str, Any]) -> LiveContainer:
    """A container as `GET /containers/json` lists it."""
    nets = ((raw.get("NetworkSettings") or {}).get("Networks")) or {}
    endpoints = []
    for name, ep in nets.items():
        ipam = ep.get("IPAMConfig") or {}
        endpoints.append(LiveEndpoint(
            network_id=ep.get("NetworkID") or "", network_name=name,
            ipv4=ep.get("IPAddress") or None, ipv6=ep.get("GlobalIPv6Address") or None,
            requested_ipv4=ipam.get("IPv4Address") or None,
            requested_ipv6=ipam.get("IPv6Address") or None,
            mac=(ep.get("MacAddress") or "").lower() or None,
            aliases=tuple(ep.get("Aliases") or ()),
        ))
    return LiveContainer(
        id=raw["Id"], name=_own_name(raw.get("Names") or ["/"]), image=raw.get("Image", ""),
        state=raw.get("State", ""), labels=tuple((raw.get("Labels") or {}).items()),
        network_mode=(raw.get("HostConfig") or {}).get("NetworkMode", ""),
        endpoints=tuple(endpoints),
    )


def live_network(raw: dict[str, Any]) -> LiveNetwork:
    """A network as `GET /networks` lists it."""
    config = ((raw.get("IPAM") or {}).get("Config")) or []
    return LiveNetwork(
        id=raw["Id"], name=raw["Name"], driver=raw.get("Driver", ""),
        scope=raw.get("Scope", ""), labels=tuple((raw.get("Labels") or {}).items()),
        subnets=tuple(c["Subnet"] for c in config if c.get("Subnet")),
    )


def _own_name(names: list[str]) -> str:
    """The container's own name. A linked container also lists each link to it, as
    "/LINKER/ALIAS", in any order: those are not its name."""
    own = [n for n in names if "/" not in n.strip("/")]
    return (own or names)[0].strip("/")
