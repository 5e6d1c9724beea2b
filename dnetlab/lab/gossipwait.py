"""After `up` changed a swarm lab: wait until every host's engine knows, on each lab
overlay, every host that has a container on it and every container on it
(`reconcile.swarm.peer_gaps`): the swarm's gossip can reach a host late, and until it
has, the overlay carries nothing between them. Only the lagging hosts are read again, one
overlay inspect each per poll."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from dnetlab.engine.engine import Engine
from dnetlab.reconcile.observed import HostObserved
from dnetlab.reconcile.swarm import PeerGap

# Docker's gossip exchanges its full membership with a random member every 30 s; a host
# that missed another's announcement learns of it at one of the next exchanges
WAIT_S = 90.0
POLL_S = 0.5


def await_peers(gaps: list[PeerGap], engines: Mapping[str, Engine],
                observed: Mapping[str, HostObserved], say: Callable[[str], None],
                stop: threading.Event | None = None, wait_s: float | None = None,
                ) -> list[str]:
    """Poll the hosts of `gaps` until each lists the peers it lacked; what is still
    missing when `wait_s` (default WAIT_S) is up or `stop` is set, one line per host and
    overlay."""
    if not gaps:
        return []
    limit = WAIT_S if wait_s is None else wait_s
    say(f"waiting for the swarm's gossip to reach every host: {_describe(gaps, observed)}")
    started = time.monotonic()
    while True:
        still = []
        for g in gaps:
            peers, announced = engines[g.host].overlay_gossip(g.network_id, g.network)
            missing = tuple(a for a in g.missing if a not in peers)
            unknown = tuple(c for c in g.unknown if c not in announced)
            if missing or unknown:
                still.append(PeerGap(g.host, g.network_id, g.network, missing, unknown))
        gaps = still
        if not gaps or time.monotonic() - started >= limit or (
                stop is not None and stop.is_set()):
            break
        time.sleep(POLL_S)
    waited = time.monotonic() - started
    return [f"host {g.host}: after {waited:.0f} s its engine still does not know "
            f"{_lacks(g, observed)} on overlay network {g.network}, so nothing there reaches "
            "or resolves them: the swarm's gossip has not reached it. Run `dnetlab up` "
            "again; if it stays so, restart dockerd on that host" for g in gaps]


def _lacks(g: PeerGap, observed: Mapping[str, HostObserved]) -> str:
    parts = [f"the peer(s) {_names(g.missing, observed)}"] if g.missing else []
    if g.unknown:
        shown = ", ".join(g.unknown[:5]) + (f" and {len(g.unknown) - 5} more"
                                            if len(g.unknown) > 5 else "")
        parts.append(f"the container(s) {shown}")
    return " nor ".join(parts)


def _names(addresses: tuple[str, ...], observed: Mapping[str, HostObserved]) -> str:
    """Hosts named by key where an engine's swarm address is known, else by address."""
    by_addr = {o.swarm.node_addr: key for key, o in observed.items() if o.swarm.node_addr}
    return ", ".join(f"host {by_addr[a]} ({a})" if a in by_addr else a for a in addresses)


def _describe(gaps: list[PeerGap], observed: Mapping[str, HostObserved]) -> str:
    return "; ".join(f"{g.host} does not know {_lacks(g, observed)} on {g.network} yet"
                     for g in gaps)
