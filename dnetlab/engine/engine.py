"""`Engine`: the one object callers use for one host's engine.

It holds the host's `Connection` and hands each operation to the module that answers its
question: `read` (what is there), `change` (networks, volumes, containers), `exec` (run a
command), `images`, `swarm`, `support` (what the kernel lacks). The defaults of the
operations live here, once; the modules take every argument explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeAlias

from dnetlab.engine import change, hostexec, images, impair, read, support, swarm
from dnetlab.engine import exec as execs
from dnetlab.engine.connect import Connection, open_connection
from dnetlab.engine.errors import EngineError
from dnetlab.engine.exec import ExecResult
from dnetlab.model import Host, Impairment
from dnetlab.reconcile.desired import AttachmentSpec, ContainerSpec, NetworkSpec, VolumeSpec
from dnetlab.reconcile.observed import HostObserved, SwarmInfo

# How `Engine.open` gets a host's connection. The one seam for what stands in for an
# engine outside the package (bench/model: a simulated engine replaying measured costs,
# or a recorder of the calls made); dnetlab itself only ever uses `open_connection`.
ConnectionOpener: TypeAlias = Callable[[Host, float], Connection]
_opener: ConnectionOpener = open_connection


def use_opener(opener: ConnectionOpener | None) -> ConnectionOpener:
    """Make `Engine.open` use `opener` (None: the real one); returns the one it replaces."""
    global _opener
    previous, _opener = _opener, opener or open_connection
    return previous


class Engine:
    """One host's engine: every operation callers make on it, over one `Connection`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, host: Host, timeout: float = 30.0) -> Engine:
        return cls(_opener(host, timeout))

    @property
    def host(self) -> Host:
        return self.conn.host

    def close(self) -> None:
        self.conn.close()

    # -- reading -----------------------------------------------------------------------------
    def observe(self, images: Iterable[str] = (), swarm: bool = False) -> HostObserved:
        return read.observe(self.conn, images, swarm)

    def overlay_gossip(self, net_id: str, name: str) -> tuple[tuple[str, ...],
                                                                tuple[str, ...]]:
        return read.overlay_gossip(self.conn, net_id, name)

    # -- swarm -------------------------------------------------------------------------------
    def swarm_info(self) -> SwarmInfo:
        return swarm.swarm_info(self.conn)

    def swarm_init(self, advertise_addr: str | None, swarm_labels: dict[str, str]) -> None:
        swarm.swarm_init(self.conn, advertise_addr, swarm_labels)

    def swarm_join_token(self, role: str) -> str:
        return swarm.swarm_join_token(self.conn, role)

    def swarm_join(self, managers: list[str], token: str, advertise_addr: str | None) -> None:
        swarm.swarm_join(self.conn, managers, token, advertise_addr)

    def swarm_leave(self, force: bool) -> None:
        swarm.swarm_leave(self.conn, force)

    # -- images ------------------------------------------------------------------------------
    def pull(self, ref: str, progress: Callable[[str], None] | None = None) -> None:
        images.pull(self.conn, ref, progress)

    def save_image(self, ref: str) -> Iterator[bytes]:
        return images.save_image(self.conn, ref)

    def load_image(self, data: Iterator[bytes]) -> None:
        images.load_image(self.conn, data)

    def has_image(self, ref: str) -> bool:
        return images.has_image(self.conn, ref)

    # -- changing ----------------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> str:
        return change.create_network(self.conn, spec)

    def remove_network(self, name_or_id: str, settle_s: float = 3.0) -> None:
        change.remove_network(self.conn, name_or_id, settle_s)

    def remove_left_swarm_bridge(self, settle_s: float = 0.0) -> str | None:
        return change.remove_left_swarm_bridge(self.conn, settle_s)

    def create_volume(self, spec: VolumeSpec) -> None:
        change.create_volume(self.conn, spec)

    def remove_volume(self, name: str) -> None:
        change.remove_volume(self.conn, name)

    def create_container(self, spec: ContainerSpec, start: bool = True) -> str:
        return change.create_container(self.conn, spec, start)

    def connect(self, container_id: str, att: AttachmentSpec, name: str) -> None:
        change.connect(self.conn, container_id, att, name)

    def disconnect(self, container_id: str, network: str, name: str) -> None:
        change.disconnect(self.conn, container_id, network, name)

    def start(self, container_id: str, name: str) -> None:
        change.start_container(self.conn, container_id, name)

    def unpause(self, container_id: str, name: str) -> None:
        change.unpause(self.conn, container_id, name)

    def pause(self, container_id: str, name: str) -> None:
        change.pause(self.conn, container_id, name)

    def stop(self, container_id: str, name: str, timeout_s: int = 10) -> None:
        change.stop_container(self.conn, container_id, name, timeout_s)

    def restart(self, container_id: str, name: str, timeout_s: int = 10) -> None:
        change.restart_container(self.conn, container_id, name, timeout_s)

    def kill(self, container_id: str, name: str, signal: str = "SIGKILL") -> None:
        change.kill_container(self.conn, container_id, name, signal)

    def remove_container(self, container_id: str, name: str, *, graceful: bool = False,
                         volumes: bool = False) -> None:
        change.remove_container(self.conn, container_id, name, graceful=graceful,
                                volumes=volumes)

    # -- exec --------------------------------------------------------------------------------
    def exec(self, container: str, argv: list[str], *, user: str = "") -> ExecResult:
        return execs.exec_in(self.conn, container, argv, user)

    @property
    def runs_execs_over_ssh(self) -> bool:
        """True when `exec_many` sends one SSH command instead of one exec per job."""
        return execs.runs_execs_over_ssh(self.conn)

    def exec_many(self, jobs: Sequence[hostexec.Job], parallel: int) -> list[
            ExecResult | EngineError]:
        return execs.exec_many(self.conn, jobs, parallel)

    def shell(self, container: str, shell: str) -> int:
        """An interactive `shell` in `container` on this terminal; its exit status
        (`shell` module: docker exec -it locally, a pty over the SSH connection)."""
        from dnetlab.engine import shell as shells

        if self.conn.url.startswith("ssh://"):
            return shells.run_over_ssh(self.conn, container, shell)
        return shells.run_local(self.conn, container, shell)

    def run_helper(self, image: str, argv: list[str], network_mode: str,
                   helper_labels: dict[str, str], timeout: float = 120.0) -> ExecResult:
        return execs.run_helper(self.conn, image, argv, network_mode, helper_labels, timeout)

    # -- impairments (dnetlab's tools image in the container's namespace) -------------------
    def set_impairment(self, container_id: str, network: str, name: str,
                       imp: Impairment | None) -> None:
        impair.set_impairment(self.conn, container_id, network, name, imp)

    def read_impairments(self, container_ids: Iterable[str]) -> dict[str, impair.ReadBack]:
        return impair.read_impairments(self.conn, container_ids)

    def netem_missing(self) -> str | None:
        return impair.netem_missing(self.conn)

    # -- preflight ---------------------------------------------------------------------------
    def probe_ipvlan(self, parent: str | None, image: str) -> str | None:
        return support.probe_ipvlan(self.conn, parent, image)

    def probe_vlan_parent(self, driver: str, parent: str) -> str | None:
        return support.probe_vlan_parent(self.conn, driver, parent)
