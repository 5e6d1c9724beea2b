"""What `apply` changes on a host's engine: networks, volumes and containers created,
connected, started and removed. Primitive operations only; the plan decided them."""

from __future__ import annotations

import re
import sys
import time
from contextlib import suppress
from typing import Any

from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError, translated
from dnetlab.reconcile.desired import AttachmentSpec, ContainerSpec, NetworkSpec, VolumeSpec

# -- networks ------------------------------------------------------------------------------
OVERLAY_SETTLE_S = 15.0


def create_network(conn: Connection, spec: NetworkSpec) -> str:
    docker = conn.sdk()
    pools = [docker.types.IPAMPool(subnet=s, gateway=g, iprange=r) for s, g, r in spec.ipam]
    ipam = docker.types.IPAMConfig(pool_configs=pools) if pools else None
    # An overlay just removed (recreated for a changed setting) is still known to the
    # swarm's managers for a moment: "already exists" until its removal has gone round.
    # Anything else of that name was refused by preflight, so waiting cannot hide it.
    deadline = time.monotonic() + (OVERLAY_SETTLE_S if spec.driver == "overlay" else 0.0)
    while True:
        try:
            with translated(f"host {conn.host.key}: creating network {spec.name}"):
                created = conn.api.create_network(
                    spec.name, driver=spec.driver, options=dict(spec.options) or None,
                    ipam=ipam, internal=spec.internal, labels=dict(spec.labels),
                    enable_ipv6=spec.ipv6, attachable=spec.attachable or None,
                    check_duplicate=True,
                )
            return str(created["Id"])
        except EngineError as exc:
            if "already exists" not in exc.message or time.monotonic() > deadline:
                raise
        time.sleep(0.25)


def remove_network(conn: Connection, name_or_id: str, settle_s: float) -> None:
    """Remove a network. An endpoint whose container is already gone may linger a
    moment ("has active endpoints" with no container attached): retried for up to
    `settle_s`. Docker 20.10 can keep such an endpoint until dockerd restarts: then
    the error says so."""
    what = f"host {conn.host.key}: removing network {name_or_id}"
    deadline = time.monotonic() + settle_s
    while True:
        try:
            with translated(what):
                conn.api.remove_network(name_or_id)
            return
        except EngineError as exc:
            if "active endpoints" not in exc.message or _network_users(conn, name_or_id):
                raise
            if time.monotonic() > deadline:
                raise EngineError(
                    f"{exc.message}; no container is attached to it: the engine keeps a "
                    "dead endpoint (a Docker 20.10 fault after heavy churn); restart "
                    "dockerd on that host, then run the command again") from exc
        time.sleep(0.2)


# the endpoint a swarm's ingress sandbox keeps on docker_gwbridge: its key in the
# network's `Containers`, and its endpoint name (what a forced disconnect takes)
_INGRESS_SBOX = "ingress-sbox"
_INGRESS_ENDPOINT = "gateway_ingress-sbox"


def remove_left_swarm_bridge(conn: Connection, settle_s: float) -> str | None:
    """After this host left its swarm: remove docker_gwbridge, which joining made, unless
    a container uses it. None when it is gone (or was, or a container uses it); what to
    tell the user when the engine keeps it.

    An endpoint on it that no container holds is the left swarm's ingress sandbox's, or
    that of a container already removed. It mostly goes by itself at once; it is waited
    for up to `settle_s`, then deleted by its endpoint name, as `docker network disconnect
    --force` would: Docker 20.10 sometimes keeps such an endpoint as a dead one, listed
    or not. Under load it can also count an endpoint that no longer exists (nothing
    listed, nothing to delete, "has active endpoints" still 20 s later on the test bed):
    only a restart of dockerd clears that count."""
    name = "docker_gwbridge"
    deadline = time.monotonic() + settle_s
    try:
        while True:
            users = _network_users(conn, name)
            if any(_container_exists(conn, key) for key in users if key != _INGRESS_SBOX):
                return None  # a container uses it: someone else's, the lab's were removed
            if not users or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        for key, endpoint in users.items():
            _delete_endpoint(conn, name, str(endpoint.get("Name") or key))
        try:
            remove_network(conn, name, settle_s=0.0)
        except EngineError as exc:
            if "active endpoints" not in exc.message:
                raise
            if _INGRESS_SBOX not in users:  # listed, it was deleted above
                _delete_endpoint(conn, name, _INGRESS_ENDPOINT)  # kept, not listed
            remove_network(conn, name, settle_s=settle_s)
    except EngineError as exc:
        if "active endpoints" not in exc.message:
            return None  # gone already (or going): nothing the user need do
        return (f"host {conn.host.key}: docker_gwbridge, which joining the lab's swarm made, "
                "is left: its engine counts an endpoint on it that no longer exists (a "
                "Docker 20.10 fault under load); restart dockerd on that host, then run "
                "`docker network rm docker_gwbridge` there")
    return None


def _container_exists(conn: Connection, container_id: str) -> bool:
    docker = conn.sdk()
    with translated(f"host {conn.host.key}: inspecting container {container_id[:12]}"):
        try:
            conn.api.inspect_container(container_id)
        except docker.errors.NotFound:
            return False
    return True


def _delete_endpoint(conn: Connection, network: str, endpoint: str) -> None:
    with suppress(EngineError), translated(
            f"host {conn.host.key}: deleting endpoint {endpoint} of network {network}"):
        conn.api.disconnect_container_from_network(endpoint, network, force=True)


def _network_users(conn: Connection, network: str) -> dict[str, Any]:
    """The network's endpoints by container ID, as the engine lists them."""
    with translated(f"host {conn.host.key}: inspecting network {network}"):
        return dict(conn.api.inspect_network(network).get("Containers") or {})


# -- volumes -------------------------------------------------------------------------------
def create_volume(conn: Connection, spec: VolumeSpec) -> None:
    with translated(f"host {conn.host.key}: creating volume {spec.name}"):
        conn.api.create_volume(spec.name, labels=dict(spec.labels))


def remove_volume(conn: Connection, name: str) -> None:
    with translated(f"host {conn.host.key}: removing volume {name}"):
        conn.api.remove_volume(name)


# -- containers ----------------------------------------------------------------------------
def create_container(conn: Connection, spec: ContainerSpec, start: bool) -> str:
    """Create on the first network, connect the others before start (API 1.41 takes
    one network at create), then start."""
    api = conn.api
    first = spec.attachments[0] if spec.attachments else None
    network_mode = spec.network_mode or (first.network_name if first else None)
    host_net = spec.network_mode == "host"
    restart = None
    if spec.restart and spec.restart != "no":
        name, _, count = spec.restart.partition(":")
        restart = {"Name": name, "MaximumRetryCount": int(count or 0)}
    port_bindings: dict[str, Any] = {}
    for port, ip, hport in spec.ports:
        port_bindings[port] = (ip, hport) if ip else hport
    binds = [b for b in spec.binds if ":" in b]
    anonymous = [b for b in spec.binds if ":" not in b]
    host_config = api.create_host_config(
        network_mode=network_mode, init=spec.init, cap_add=list(spec.cap_add) or None,
        cap_drop=list(spec.cap_drop) or None, privileged=spec.privileged,
        sysctls=dict(spec.sysctls) or None, port_bindings=port_bindings or None,
        binds=binds or None, dns=list(spec.dns) or None,
        dns_search=list(spec.dns_search) or None, restart_policy=restart,
        # (Docker name, alias) pairs: the SDK writes "name:alias"; the targets run already
        links=list(spec.links) or None, extra_hosts=list(spec.extra_hosts) or None,
    )
    networking = None
    if first is not None:
        networking = api.create_networking_config(
            {first.network_name: _endpoint_config(conn, first)})
    with translated(f"host {conn.host.key}: creating container {spec.name}"):
        created = api.create_container(
            spec.image,
            command=list(spec.command) if spec.command is not None else None,
            entrypoint=list(spec.entrypoint) if spec.entrypoint is not None else None,
            hostname=None if host_net else spec.hostname,
            environment=dict(spec.env) or None, labels=dict(spec.labels), name=spec.name,
            host_config=host_config, networking_config=networking,
            ports=[p for p, _, _ in spec.ports] or None, volumes=anonymous or None,
            mac_address=spec.mac, detach=True,
        )
    cid = str(created["Id"])
    for att in spec.attachments[1:]:
        connect(conn, cid, att, spec.name)
    if start:
        start_container(conn, cid, spec.name)
    return cid


def _endpoint_config(conn: Connection, att: AttachmentSpec) -> Any:
    return conn.api.create_endpoint_config(
        ipv4_address=att.ipv4, ipv6_address=att.ipv6, aliases=list(att.aliases))


def connect(conn: Connection, container_id: str, att: AttachmentSpec, name: str) -> None:
    with translated(f"host {conn.host.key}: connecting {name} to {att.network_name}"):
        conn.api.connect_container_to_network(
            container_id, att.network_name, ipv4_address=att.ipv4, ipv6_address=att.ipv6,
            aliases=list(att.aliases) or None)  # the default bridge refuses aliases


def disconnect(conn: Connection, container_id: str, network: str, name: str) -> None:
    with translated(f"host {conn.host.key}: disconnecting {name} from {network}"):
        conn.api.disconnect_container_from_network(container_id, network, force=True)


# Docker waits 20 s per start for the swarm's manager to hand it an overlay attachment
ATTACH_WAIT_S = 60.0


def start_container(conn: Connection, container_id: str, name: str) -> None:
    """Start a created or stopped container. Docker attaches it to an attachable overlay
    through the swarm's manager, which may not answer for a while: a manager just made
    and busy, a worker that has just joined or lost its path to the manager. Docker
    waits 20 s, refuses the start ("attaching to network failed" or "Could not attach to
    network", with "context deadline exceeded"), and attaches on a later try. A host
    makes its attachments to one overlay one at a time, so the next container's start,
    queued behind that wait, can outlast the client's read timeout. Both are tried
    again, at least once and until ATTACH_WAIT_S is up (after such a refusal, "network
    ... not found" too: `_NETWORK_NOT_FOUND`): a start that went through meanwhile
    answers "already started", which is success. Any other error at once."""
    deadline = time.monotonic() + ATTACH_WAIT_S
    tries = 0
    while True:
        tries += 1
        try:
            with translated(f"host {conn.host.key}: starting container {name}"):
                conn.api.start(container_id)
            return
        except EngineError as exc:
            pending = _attach_timed_out(exc.message) or _timed_out(exc) or (
                tries > 1 and _NETWORK_NOT_FOUND.search(exc.message) is not None)
            if not pending or (tries > 1 and time.monotonic() > deadline):
                raise
        time.sleep(1.0)


# On a try after a refused one: Docker was still undoing the refused attachment (it removes
# the overlay from the host as its last endpoint goes) while the new one looked it up
# (seen in CI, on a manager just made: "network <swarm ID> not found" 10 s into the try).
_NETWORK_NOT_FOUND = re.compile(r"\bnetwork \S+ not found\b")


def _attach_timed_out(message: str) -> bool:
    """Docker's words for an overlay attachment its manager did not hand over in time: the
    manager's own ("attaching to network failed") or a worker's, whose request to the
    manager timed out."""
    return "attaching to network failed" in message or (
        "Could not attach to network" in message and "context deadline exceeded" in message)


def _timed_out(exc: BaseException) -> bool:
    """The engine took the request and did not answer within the client's read timeout
    (not a refused, broken or timed-out connection: a host that is gone fails at once)."""
    requests = sys.modules.get("requests")  # looked up: the SDK loads it
    cause = exc.__cause__
    return requests is not None and isinstance(cause, requests.exceptions.ReadTimeout)


def unpause(conn: Connection, container_id: str, name: str) -> None:
    with translated(f"host {conn.host.key}: unpausing container {name}"):
        conn.api.unpause(container_id)


def pause(conn: Connection, container_id: str, name: str) -> None:
    with translated(f"host {conn.host.key}: pausing container {name}"):
        conn.api.pause(container_id)


def stop_container(conn: Connection, container_id: str, name: str, timeout_s: int) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`; a lab container runs under init, which
    ends at the SIGTERM, so the timeout is only a bound."""
    with translated(f"host {conn.host.key}: stopping container {name}"):
        conn.api.stop(container_id, timeout=timeout_s)


def restart_container(conn: Connection, container_id: str, name: str, timeout_s: int) -> None:
    with translated(f"host {conn.host.key}: restarting container {name}"):
        conn.api.restart(container_id, timeout=timeout_s)


def kill_container(conn: Connection, container_id: str, name: str, signal: str) -> None:
    with translated(f"host {conn.host.key}: killing container {name} ({signal})"):
        conn.api.kill(container_id, signal=signal)


def remove_container(conn: Connection, container_id: str, name: str, *, graceful: bool,
                     volumes: bool) -> None:
    docker = conn.sdk()
    with translated(f"host {conn.host.key}: removing container {name}"):
        try:
            if graceful:
                conn.api.stop(container_id, timeout=10)
            conn.api.remove_container(container_id, force=True, v=volumes)
        except docker.errors.NotFound:
            pass  # already gone: the goal is reached
