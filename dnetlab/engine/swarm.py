"""How a host takes part in a Docker Swarm: its state as the engine reports it, and the
init, join and leave that `apply` carries out (the decisions are in `reconcile.swarm`)."""

from __future__ import annotations

import time

from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import translated
from dnetlab.reconcile.observed import SwarmInfo


def swarm_info(conn: Connection) -> SwarmInfo:
    info = conn.read("swarm state", "/info", lambda: conn.api.info())
    raw = info.get("Swarm") or {}
    cluster = raw.get("Cluster") or {}
    drivers = tuple((info.get("Plugins") or {}).get("Network") or ())
    return SwarmInfo(
        state=raw.get("LocalNodeState") or "inactive", node_id=raw.get("NodeID") or "",
        node_addr=raw.get("NodeAddr") or "", is_manager=bool(raw.get("ControlAvailable")),
        cluster_id=cluster.get("ID") or "",
        labels=tuple(((cluster.get("Spec") or {}).get("Labels") or {}).items()),
        manager_addrs=tuple(m.get("Addr", "") for m in raw.get("RemoteManagers") or ()),
        network_drivers=drivers,
    )


def swarm_init(conn: Connection, advertise_addr: str | None,
               swarm_labels: dict[str, str]) -> None:
    with translated(f"host {conn.host.key}: initialising the swarm"):
        conn.api.init_swarm(advertise_addr=advertise_addr, listen_addr="0.0.0.0:2377",
                            swarm_spec=conn.api.create_swarm_spec(labels=swarm_labels))


def swarm_join_token(conn: Connection, role: str) -> str:
    with translated(f"host {conn.host.key}: reading the swarm's join tokens"):
        tokens = conn.api.inspect_swarm()["JoinTokens"]
    return str(tokens["Manager" if role == "manager" else "Worker"])


def swarm_join(conn: Connection, managers: list[str], token: str,
               advertise_addr: str | None) -> None:
    with translated(f"host {conn.host.key}: joining the swarm at {', '.join(managers)}"):
        conn.api.join_swarm(remote_addrs=managers, join_token=token,
                            advertise_addr=advertise_addr, listen_addr="0.0.0.0:2377")


LEAVE_SETTLE_S = 12.0


def swarm_leave(conn: Connection, force: bool, settle_s: float = LEAVE_SETTLE_S) -> None:
    """Leave, then wait (up to `settle_s`) until the host lists no swarm-scoped network:
    the engine answers the leave before its agent has taken the swarm's networks
    (`ingress`, the overlays) off the host, and `down` returning while the host still
    lists them would show the user a host that is not as it was. Usually one listing;
    what is still there after `settle_s` is left to the engine (it goes on its own)."""
    with translated(f"host {conn.host.key}: leaving the swarm"):
        conn.api.leave_swarm(force=force)
    deadline = time.monotonic() + settle_s
    with translated(f"host {conn.host.key}: listing networks after leaving the swarm"):
        while any(n.get("Scope") == "swarm" for n in conn.api.networks()) and (
                time.monotonic() < deadline):
            time.sleep(0.1)
