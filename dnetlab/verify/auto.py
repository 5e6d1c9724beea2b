"""`verify --auto`: reachability probes derived from the topology.

Every pair of containers sharing a user-defined network must reach each other on it;
every pair that shares no network, each only on user-defined bridges, must not reach
the other's addresses (Docker isolates bridges from each other).

An external network counts as shared like any other (by address: ping needs no name, and
Docker's default bridge resolves none). Its driver is not known, except that Docker's
default bridge is a bridge, so only that one takes part in "must not reach".
"""

from __future__ import annotations

from dnetlab.model import Network, Scenario
from dnetlab.probes.base import Target
from dnetlab.probes.ping import PingProbe
from dnetlab.probes.registry import Probe

_COMMON = {"within": 0.0, "index": -1, "name_given": True, "count": 2}


def _ping(src: str, dst: str, net: str, expect: str) -> PingProbe:
    arrow = "->" if expect == "reachable" else "-/->"
    return PingProbe(name=f"auto: {src} {arrow} {dst}@{net}", source=src,
                     target=Target(f"{dst}@{net}", "container_network", dst, net),
                     expect=expect, **_COMMON)  # type: ignore[arg-type]


def _bridge(n: Network) -> bool:
    return n.default_bridge if n.external else n.driver == "bridge"


def derived(sc: Scenario) -> list[Probe]:
    out: list[Probe] = []
    nets = {c.key: [a.network for a in c.attachments] for c in sc.containers
            if c.network_mode is None and c.attachments}
    # with Docker's default bridge declared (external), its containers that name no
    # network are on it too
    bridge = next((n.key for n in sc.networks if n.default_bridge), None)
    if bridge is not None:
        nets.update({c.key: [bridge] for c in sc.containers
                     if c.on_default_bridge and c.key not in nets})
    host = {c.key: c.host for c in sc.containers}
    keys = sorted(nets)
    for a in keys:
        for b in keys:
            if a == b:
                continue
            shared = [n for n in nets[a] if n in nets[b]]
            for n in shared:
                # a bridge on two hosts is two unconnected networks: only same-host pairs
                if sc.network(n).driver == "overlay" or host[a] == host[b]:
                    out.append(_ping(a, b, n, "reachable"))
                    break
            if shared:
                continue
            only_bridges = all(_bridge(sc.network(n)) for n in nets[a] + nets[b])
            if only_bridges and host[a] == host[b]:
                out.extend(_ping(a, b, n, "unreachable") for n in nets[b])
    return out
