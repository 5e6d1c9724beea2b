"""The Docker engine of one host: the only module that imports the Docker SDK.

It reads live state in a few list calls and performs primitive operations; it makes no
decisions (those are in `plan`). Every SDK failure leaves here as an `EngineError` or, for
an engine that cannot be reached, an `EnvironmentFailure`.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from dnetlab import labels
from dnetlab.engine import hostexec
from dnetlab.errors import DnetlabError, EnvironmentFailure, ExitCode
from dnetlab.model import Host
from dnetlab.reconcile.desired import AttachmentSpec, ContainerSpec, NetworkSpec, VolumeSpec
from dnetlab.reconcile.observed import (
    HostObserved,
    LiveContainer,
    LiveEndpoint,
    LiveNetwork,
    LiveVolume,
    SwarmInfo,
)

MIN_API = (1, 41)  # Docker 20.10, as Debian 12 ships it
DEFAULT_SOCKET = "unix:///var/run/docker.sock"

_import_lock = threading.Lock()


def _docker(need_ssh: bool) -> Any:
    """Import the SDK. Its import pulls in paramiko (0.13 s of a 0.2 s import) whether or
    not SSH is used, so for local engines paramiko is kept out; it is added when an
    ssh:// host needs it."""
    with _import_lock:
        if "docker" not in sys.modules and not need_ssh and "paramiko" not in sys.modules:
            sys.modules["paramiko"] = None  # type: ignore[assignment]
            try:
                import docker
            finally:
                del sys.modules["paramiko"]
        import docker
        import docker.api.client as api_client

        if need_ssh and not hasattr(api_client, "SSHHTTPAdapter"):
            from docker.transport.sshconn import SSHHTTPAdapter

            api_client.SSHHTTPAdapter = SSHHTTPAdapter
        return docker


class EngineError(DnetlabError):
    """An engine refused an operation."""

    exit_code = ExitCode.FAILED


def engine_url(host: Host) -> str:
    return host.engine or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


@contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        docker = sys.modules.get("docker")  # may have been loaded inside the block
        if docker is not None and isinstance(exc, docker.errors.APIError):
            explanation = exc.explanation or str(exc)
            if isinstance(explanation, bytes):
                explanation = explanation.decode(errors="replace")
            raise EngineError(f"{what}: {explanation}") from exc
        if docker is not None and isinstance(exc, docker.errors.DockerException):
            raise EngineError(f"{what}: {exc}") from exc
        raise


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str


class _SocketReader:
    """Read-only GETs on a local engine's unix socket with the standard library.

    Reading state is all a no-op `up`, `status` or `plan` does; the SDK (0.1 s to import,
    mostly `requests`) is loaded only when something is to be changed.
    """

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self.prefix = ""

    def get(self, url: str) -> Any:
        conn = http.client.HTTPConnection("localhost", timeout=self.timeout)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
            conn.sock = sock
            conn.request("GET", self.prefix + url)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status >= 400:
            try:
                message = json.loads(body).get("message", "")
            except ValueError:
                message = body.decode(errors="replace")
            raise EngineError(f"GET {url}: {resp.status} {message}".strip())
        return json.loads(body)


class Engine:
    """One connection to one host's engine, reused by every operation on it."""

    def __init__(self, host: Host, api: Any, url: str, api_version: str = "",
                 reader: _SocketReader | None = None, timeout: float = 30.0) -> None:
        self.host = host
        self._api = api
        self.url = url
        self.api_version: str = api_version or api.api_version
        self.server_version = ""
        self.reader = reader
        self.timeout = timeout

    @property
    def api(self) -> Any:
        """The SDK client, made on first use for local engines read through the socket."""
        if self._api is None:
            docker = _docker(False)
            self._api = docker.APIClient(base_url=self.url, version=self.api_version,
                                         timeout=self.timeout)
        return self._api

    def _sdk(self) -> Any:
        self.api  # noqa: B018 - loads the SDK and makes the client
        return sys.modules["docker"]

    # -- connection ----------------------------------------------------------------------
    @classmethod
    def open(cls, host: Host, timeout: float = 30.0) -> Engine:
        url = engine_url(host)
        if url.startswith("unix://"):
            return cls._open_socket(host, url, timeout)
        docker = _docker(url.startswith("ssh://"))
        try:
            if host.engine is None:
                kwargs = docker.utils.kwargs_from_env()
                kwargs.setdefault("base_url", DEFAULT_SOCKET)
                api = docker.APIClient(version="auto", timeout=timeout, **kwargs)
            else:
                api = docker.APIClient(base_url=url, version="auto", timeout=timeout,
                                       use_ssh_client=False)
                _one_ssh_pool(api)
        except Exception as exc:
            if url.startswith("ssh://"):
                said = _ssh_failure(host, url, exc)
                if said.endswith(_NO_ANSWER_HINT):
                    said = _diagnose_over_ssh(docker, host, url, timeout) or said
                raise EnvironmentFailure(said) from exc
            raise _unreachable(host, url, exc) from exc
        # version="auto" already asked the engine for its version: no second call
        engine = cls(host, api, url)
        _check_api(host, url, engine.api_version)
        return engine

    @classmethod
    def _open_socket(cls, host: Host, url: str, timeout: float) -> Engine:
        reader = _SocketReader(url[len("unix://"):], timeout)
        try:
            info = reader.get("/version")
        except (OSError, EngineError, ValueError) as exc:
            raise _unreachable(host, url, exc) from exc
        version = str(info.get("ApiVersion", ""))
        _check_api(host, url, version)
        reader.prefix = f"/v{version}"
        engine = cls(host, None, url, version, reader, timeout)
        engine.server_version = str(info.get("Version", ""))
        return engine

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    def _list(self, what: str, url: str, sdk_call: Callable[[], Any]) -> Any:
        with _translated(f"host {self.host.key}: reading {what}"):
            if self.reader is not None:
                try:
                    return self.reader.get(url)
                except OSError as exc:
                    raise EngineError(f"host {self.host.key}: reading {what}: {exc}") from exc
            return sdk_call()

    # -- observation ---------------------------------------------------------------------
    def swarm_info(self) -> SwarmInfo:
        info = self._list("swarm state", "/info", lambda: self.api.info())
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

    def swarm_init(self, advertise_addr: str | None, swarm_labels: dict[str, str]) -> None:
        with _translated(f"host {self.host.key}: initialising the swarm"):
            self.api.init_swarm(advertise_addr=advertise_addr, listen_addr="0.0.0.0:2377",
                                swarm_spec=self.api.create_swarm_spec(labels=swarm_labels))

    def swarm_join_token(self, role: str) -> str:
        with _translated(f"host {self.host.key}: reading the swarm's join tokens"):
            tokens = self.api.inspect_swarm()["JoinTokens"]
        return str(tokens["Manager" if role == "manager" else "Worker"])

    def swarm_join(self, managers: list[str], token: str, advertise_addr: str | None) -> None:
        with _translated(f"host {self.host.key}: joining the swarm at {', '.join(managers)}"):
            self.api.join_swarm(remote_addrs=managers, join_token=token,
                                advertise_addr=advertise_addr, listen_addr="0.0.0.0:2377")

    def swarm_leave(self, force: bool) -> None:
        with _translated(f"host {self.host.key}: leaving the swarm"):
            self.api.leave_swarm(force=force)

    def observe(self, images: Iterable[str] = (), swarm: bool = False) -> HostObserved:
        containers = tuple(_live_container(c) for c in self._list(
            "containers", "/containers/json?all=1", lambda: self.api.containers(all=True)))
        networks = tuple(_live_network(n) for n in self._list(
            "networks", "/networks", lambda: self.api.networks()))
        label_filter = {"label": ["dnetlab.scenario"]}
        raw = self._list(
            "volumes", "/volumes?filters=" + urllib.parse.quote(json.dumps(label_filter)),
            lambda: self.api.volumes(filters={"label": "dnetlab.scenario"}),
        ).get("Volumes") or []
        volumes = tuple(LiveVolume(v["Name"], tuple((v.get("Labels") or {}).items()))
                        for v in raw)
        wanted = list(images)
        present: set[str] = set()
        if wanted:
            listed = self._list("images", "/images/json", lambda: self.api.images())
            tags = {t for img in listed for t in (img.get("RepoTags") or [])}
            present = {ref for ref in wanted if _normalise_ref(ref) in tags}
        swarm_state = self.swarm_info() if swarm else SwarmInfo()
        if swarm_state.active:
            networks = tuple(self._with_peers(n) for n in networks)
        return HostObserved(self.host.key, self.api_version, self.server_version, containers,
                            networks, volumes, frozenset(present), swarm_state)

    def _with_peers(self, net: LiveNetwork) -> LiveNetwork:
        """A lab overlay with the gossip peers this engine knows for it: a host whose
        swarm gossip never started (see docs/multihost.md) lists none, not even itself,
        while the network still shows and containers attach to it without an error."""
        if net.driver != "overlay" or net.scope != "swarm" or not net.label(labels.SCENARIO):
            return net
        raw = self._list(f"network {net.name}", f"/networks/{net.id}?verbose=true",
                         lambda: self.api.inspect_network(net.id, verbose=True))
        peers = tuple(str(p.get("IP") or "") for p in raw.get("Peers") or ())
        return replace(net, peers=peers)

    # -- images --------------------------------------------------------------------------
    def pull(self, ref: str, progress: Callable[[str], None] | None = None) -> None:
        repo, _, tag = _normalise_ref(ref).rpartition(":")
        with _translated(f"host {self.host.key}: pulling image {ref}"):
            for event in self.api.pull(repo, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise EngineError(f"host {self.host.key}: pulling image {ref}: "
                                      f"{event['error']}")
                if progress is not None and event.get("status"):
                    progress(f"{ref}: {event['status']} {event.get('progress', '')}".strip())

    # -- networks ------------------------------------------------------------------------
    def create_network(self, spec: NetworkSpec) -> str:
        docker = self._sdk()
        pools = [docker.types.IPAMPool(subnet=s, gateway=g, iprange=r) for s, g, r in spec.ipam]
        ipam = docker.types.IPAMConfig(pool_configs=pools) if pools else None
        with _translated(f"host {self.host.key}: creating network {spec.name}"):
            created = self.api.create_network(
                spec.name, driver=spec.driver, options=dict(spec.options) or None, ipam=ipam,
                internal=spec.internal, labels=dict(spec.labels), enable_ipv6=spec.ipv6,
                attachable=spec.attachable or None, check_duplicate=True,
            )
        return str(created["Id"])

    def remove_network(self, name_or_id: str, settle_s: float = 3.0) -> None:
        """Remove a network. An endpoint whose container is already gone may linger a
        moment ("has active endpoints" with no container attached): retried for up to
        `settle_s`. Docker 20.10 can keep such an endpoint until dockerd restarts: then
        the error says so."""
        what = f"host {self.host.key}: removing network {name_or_id}"
        deadline = time.monotonic() + settle_s
        while True:
            try:
                with _translated(what):
                    self.api.remove_network(name_or_id)
                return
            except EngineError as exc:
                if "active endpoints" not in exc.message or self._network_users(name_or_id):
                    raise
                if time.monotonic() > deadline:
                    raise EngineError(
                        f"{exc.message}; no container is attached to it: the engine keeps a "
                        "dead endpoint (a Docker 20.10 fault after heavy churn); restart "
                        "dockerd on that host, then run the command again") from exc
            time.sleep(0.2)

    def _network_users(self, network: str) -> dict[str, Any]:
        """The network's endpoints by container ID, as the engine lists them."""
        with _translated(f"host {self.host.key}: inspecting network {network}"):
            return dict(self.api.inspect_network(network).get("Containers") or {})

    def remove_network_if_unused(self, name: str, settle_s: float = 0.0) -> None:
        """Remove the network unless a container uses it; quietly, it is a courtesy. The
        endpoint a left swarm keeps there for a moment (`ingress-sbox`) is waited out for
        up to `settle_s`, as `remove_network` waits out one with no container."""
        deadline = time.monotonic() + settle_s
        with suppress(EngineError):  # gone already, in use, or a dead endpoint
            while set(users := self._network_users(name)) == {"ingress-sbox"} and (
                    time.monotonic() < deadline):
                time.sleep(0.1)
            if not users:
                self.remove_network(name, settle_s=max(0.0, deadline - time.monotonic()))

    # -- volumes -------------------------------------------------------------------------
    def create_volume(self, spec: VolumeSpec) -> None:
        with _translated(f"host {self.host.key}: creating volume {spec.name}"):
            self.api.create_volume(spec.name, labels=dict(spec.labels))

    def remove_volume(self, name: str) -> None:
        with _translated(f"host {self.host.key}: removing volume {name}"):
            self.api.remove_volume(name)

    # -- containers ----------------------------------------------------------------------
    def create_container(self, spec: ContainerSpec, start: bool = True) -> str:
        """Create on the first network, connect the others before start (API 1.41 takes
        one network at create), then start."""
        api = self.api
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
        )
        networking = None
        if first is not None:
            networking = api.create_networking_config(
                {first.network_name: self._endpoint_config(first)})
        with _translated(f"host {self.host.key}: creating container {spec.name}"):
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
            self.connect(cid, att, spec.name)
        if start:
            self.start(cid, spec.name)
        return cid

    def _endpoint_config(self, att: AttachmentSpec) -> Any:
        return self.api.create_endpoint_config(
            ipv4_address=att.ipv4, ipv6_address=att.ipv6, aliases=list(att.aliases))

    def connect(self, container_id: str, att: AttachmentSpec, name: str) -> None:
        with _translated(f"host {self.host.key}: connecting {name} to {att.network_name}"):
            self.api.connect_container_to_network(
                container_id, att.network_name, ipv4_address=att.ipv4, ipv6_address=att.ipv6,
                aliases=list(att.aliases) or None)  # the default bridge refuses aliases

    def disconnect(self, container_id: str, network: str, name: str) -> None:
        with _translated(f"host {self.host.key}: disconnecting {name} from {network}"):
            self.api.disconnect_container_from_network(container_id, network, force=True)

    def start(self, container_id: str, name: str) -> None:
        with _translated(f"host {self.host.key}: starting container {name}"):
            self.api.start(container_id)

    def unpause(self, container_id: str, name: str) -> None:
        with _translated(f"host {self.host.key}: unpausing container {name}"):
            self.api.unpause(container_id)

    def remove_container(self, container_id: str, name: str, *, graceful: bool = False,
                         volumes: bool = False) -> None:
        docker = self._sdk()
        with _translated(f"host {self.host.key}: removing container {name}"):
            try:
                if graceful:
                    self.api.stop(container_id, timeout=10)
                self.api.remove_container(container_id, force=True, v=volumes)
            except docker.errors.NotFound:
                pass  # already gone: the goal is reached

    def run_helper(self, image: str, argv: list[str], network_mode: str,
                   helper_labels: dict[str, str], timeout: float = 120.0) -> ExecResult:
        """Run argv in a short-lived container sharing a network namespace (another
        container's, or the host's); it is removed whatever happens."""
        api = self.api
        cid = None
        with _translated(f"host {self.host.key}: helper container from {image}"):
            try:
                cid = api.create_container(
                    image, command=argv, labels=helper_labels, detach=True,
                    host_config=api.create_host_config(network_mode=network_mode))["Id"]
                api.start(cid)
                code = api.wait(cid, timeout=timeout).get("StatusCode", -1)
                out = api.logs(cid, stdout=True, stderr=True)
            finally:
                if cid is not None:
                    with suppress(Exception):
                        api.remove_container(cid, force=True)
        text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
        return ExecResult(int(code), text)

    def probe_ipvlan(self, parent: str | None, image: str) -> str | None:
        """None when an ipvlan container can start here, else the engine's reason."""
        import uuid

        name = f"dnetlab-ipvlan-probe-{uuid.uuid4().hex[:8]}"
        helper = {"dnetlab.kind": "helper"}
        net_id = cid = None
        try:
            net_id = self.api.create_network(
                name, driver="ipvlan", options={"parent": parent} if parent else None,
                labels=helper)["Id"]
            cid = self.api.create_container(
                image, command=["true"], labels=helper,
                host_config=self.api.create_host_config(network_mode=name))["Id"]
            self.api.start(cid)
            return None
        except Exception as exc:
            text = str(getattr(exc, "explanation", None) or exc)
            return text.splitlines()[0][:200]
        finally:
            if cid:
                with suppress(Exception):
                    self.api.remove_container(cid, force=True)
            if net_id:
                with suppress(Exception):
                    self.api.remove_network(net_id)

    def _exec_via_file(self, container: str, script: str, user: str) -> ExecResult:
        """An exec that reuses the host's SSH channels.

        Attaching to an exec hijacks its HTTP connection, so over SSH every attached exec
        costs a new channel (a login shell and a remote `docker system dial-stdio`). Here
        the exec runs detached with its output in a file in the container, and plain
        requests on the pooled channel poll for its end and fetch the file.
        """
        import uuid

        path = f"/tmp/.dnetlab-exec-{uuid.uuid4().hex[:12]}"
        # the output of the previous batch was read already: removing it here saves an
        # exec (one batch runs in a container at a time)
        wrapped = f"rm -f /tmp/.dnetlab-exec-*; ( {script}\n) >{path} 2>&1"
        api = self.api
        with _translated(f"host {self.host.key}: exec in {container}"):
            ex = api.exec_create(container, ["sh", "-c", wrapped], stdout=False, stderr=False,
                                 user=user)
            api.exec_start(ex["Id"], detach=True)
            deadline = time.monotonic() + self.timeout * 10
            pause = _EXEC_POLL_S / 5
            while True:
                time.sleep(pause)
                info = api.exec_inspect(ex["Id"])
                if not info.get("Running") or time.monotonic() > deadline:
                    break
                pause = min(pause * 2, _EXEC_POLL_S)
            chunks, _ = api.get_archive(container, path)
            output = _read_archive(chunks)
        code = info.get("ExitCode")
        return ExecResult(int(code) if code is not None else -1, output)

    # -- many execs in one SSH command ------------------------------------------------------
    @property
    def runs_execs_over_ssh(self) -> bool:
        """True when `exec_many` sends one SSH command instead of one exec per job."""
        return self._ssh_client() is not None

    def _ssh_client(self) -> Any:
        if not self.url.startswith("ssh://") or self._api is None:
            return None
        adapter = getattr(self._api, "_custom_adapter", None)
        client = getattr(adapter, "ssh_client", None)
        return client if client is not None and client.get_transport() is not None else None

    def exec_many(self, jobs: Sequence[hostexec.Job], parallel: int) -> list[
            ExecResult | EngineError]:
        """Run `sh -c SCRIPT` in each job's container, at most `parallel` at a time: one
        command on the host's existing SSH connection runs them all with the host's `docker
        exec` (the CLI that the SSH transport itself needs). Only where
        `runs_execs_over_ssh`; elsewhere callers run `exec` per job, in parallel."""
        client = self._ssh_client()
        if client is None:
            raise ValueError(f"host {self.host.key}: exec_many needs an ssh:// engine")
        import paramiko  # loaded already: the SSH transport uses it

        mark = hostexec.new_mark()
        script = hostexec.host_script(jobs, mark, parallel)
        what = f"host {self.host.key}: docker exec over SSH"
        try:
            reply, err, status = _ssh_command(client, "sh -s", script.encode(),
                                              self.timeout * 10)
            results = hostexec.parse(reply, mark, len(jobs))
        except hostexec.FramingError as exc:
            detail = err.decode(errors="replace").strip() or str(exc)
            return [EngineError(f"{what} (exit {status}): {detail}") for _ in jobs]
        except (OSError, EOFError, paramiko.SSHException) as exc:
            return [EngineError(f"{what}: {exc or type(exc).__name__}") for _ in jobs]
        return [ExecResult(r.exit_code, r.output) if r.started
                else EngineError(f"host {self.host.key}: exec in {job.container}: {r.output}")
                for job, r in zip(jobs, results, strict=True)]

    # -- images between hosts -------------------------------------------------------------
    def save_image(self, ref: str) -> Iterator[bytes]:
        with _translated(f"host {self.host.key}: saving image {ref}"):
            chunks: Iterator[bytes] = self.api.get_image(ref)
        return chunks

    def load_image(self, data: Iterator[bytes]) -> None:
        with _translated(f"host {self.host.key}: loading an image"):
            for event in self.api.load_image(data):
                if isinstance(event, dict) and event.get("error"):
                    raise EngineError(f"host {self.host.key}: loading an image: "
                                      f"{event['error']}")

    # -- exec ----------------------------------------------------------------------------
    def exec(self, container: str, argv: list[str], *, user: str = "") -> ExecResult:
        if self.url.startswith("ssh://") and argv[:2] == ["sh", "-c"]:
            return self._exec_via_file(container, argv[2], user)
        with _translated(f"host {self.host.key}: exec in {container}"):
            ex = self.api.exec_create(container, argv, stdout=True, stderr=True, user=user)
            out = self.api.exec_start(ex["Id"], demux=False)
            code = self.api.exec_inspect(ex["Id"]).get("ExitCode")
        text = out.decode(errors="replace") if isinstance(out, bytes) else str(out or "")
        return ExecResult(int(code) if code is not None else -1, text)


_EXEC_POLL_S = 0.05


def _ssh_command(client: Any, command: str, stdin: bytes, timeout: float) -> tuple[
        bytes, bytes, int]:
    """Run `command` on a new session of an open paramiko client: its stdout, stderr and
    exit status. Stderr is read alongside stdout so that neither can stall the other."""
    chan = client.get_transport().open_session(timeout=timeout)
    try:
        chan.settimeout(timeout)
        chan.exec_command(command)
        chan.sendall(stdin)
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        while True:
            if chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
                continue
            data = chan.recv(65536)  # blocks up to the timeout; b"" at the end
            if not data:
                break
            out += data
        while more := chan.recv_stderr(65536):  # b"" once the host closed the channel
            err += more
        return bytes(out), bytes(err), chan.recv_exit_status()
    finally:
        chan.close()


def _read_archive(chunks: Iterable[bytes]) -> str:
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.next()
        handle = tar.extractfile(member) if member is not None else None
        return handle.read().decode(errors="replace") if handle is not None else ""


def _one_ssh_pool(api: Any) -> None:
    """Reuse SSH channels across requests.

    docker-py keys its SSH connection pools by the full request URL (docker/docker-py#2966),
    so nearly every request (each exec is three URLs) opens a new channel: a new session,
    the user's login shell, a remote `docker system dial-stdio`, about 120 ms here. One
    pool per host keeps the channels and reuses them.
    """
    adapter = getattr(api, "_custom_adapter", None)
    if adapter is None or not hasattr(adapter, "pools") or not hasattr(adapter, "ssh_client"):
        return
    by_url = adapter.get_connection

    def per_host(url: str, proxies: Any = None) -> Any:
        return by_url("ssh-host", proxies)

    adapter.get_connection = per_host
    # the client asked for the engine's version before this patch: that request's pool
    # holds an open channel, which becomes the host's pool instead of being left idle
    with adapter.pools.lock:
        opened = list(adapter.pools.keys())
        if opened and "ssh-host" not in adapter.pools:
            adapter.pools["ssh-host"] = adapter.pools[opened[0]]


def _unreachable(host: Host, url: str, exc: BaseException) -> EnvironmentFailure:
    hint = ("is dockerd running? (`make engine` starts one for the tests)"
            if url.startswith("unix://") else "check the address and that dockerd runs")
    return EnvironmentFailure(
        f"host {host.key!r}: cannot reach the Docker engine at {url}: {_reason(exc)}; {hint}")


def _check_api(host: Host, url: str, version: str) -> None:
    if _version_tuple(version) < MIN_API:
        raise EnvironmentFailure(
            f"host {host.key!r}: the engine at {url} speaks API {version}, older than the "
            f"{MIN_API[0]}.{MIN_API[1]} dnetlab needs (Docker 20.10 or newer)")


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _ssh_failure(host: Host, url: str, exc: BaseException) -> str:
    """What went wrong on the way to an engine over SSH, and how to fix it."""
    parts = urllib.parse.urlsplit(url)
    addr = parts.hostname or "?"
    port = f" -p {parts.port}" if parts.port else ""
    who = f"host {host.key!r} ({url})"
    names = {type(e).__name__ for e in _chain(exc)}
    text = " ".join(str(e) for e in _chain(exc))
    if "BadHostKeyException" in names or "does not match" in text:
        return (f"{who}: its SSH host key has CHANGED since it was recorded in known_hosts; "
                "if the host was rebuilt, remove the old key with `ssh-keygen -R "
                f"{addr}` and add the new one after checking it (`ssh-keyscan{port} {addr}`)")
    if "not found in known_hosts" in text:
        return (f"{who}: its SSH host key is unknown; dnetlab never accepts a key silently: "
                f"check it and add it with `ssh-keyscan{port} {addr} >> ~/.ssh/known_hosts` "
                f"(or connect once with `ssh{port} {parts.username or 'root'}@{addr}`)")
    if "AuthenticationException" in names or "Authentication failed" in text:
        return (f"{who}: the SSH login was refused; dnetlab uses your SSH keys and agent: "
                f"check `ssh{port} {parts.username or 'root'}@{addr} docker version` works")
    if ("NoValidConnectionsError" in names or "timed out" in text or "Unable to connect" in text
            or "No route to host" in text or "Connection refused" in text):
        return (f"{who}: cannot open an SSH connection ({_reason(exc)}); is the host up and "
                "sshd running?")
    return (f"{who}: connected over SSH but the Docker engine did not answer ({_reason(exc)}); "
            + _NO_ANSWER_HINT)


_NO_ANSWER_HINT = ("the SSH transport runs `docker system dial-stdio` on the host: is the "
                   "docker CLI installed there and dockerd running?")


def _diagnose_over_ssh(docker: Any, host: Host, url: str, timeout: float) -> str | None:
    """Why a host that accepted the SSH login gave no engine, in the host's own words:
    `docker version` run there in a session of a new connection (made as the SDK makes
    its own). None when that does not tell more."""
    who = f"host {host.key!r} ({url})"
    try:
        # as APIClient does: the adapter wants the port spelled out
        adapter = docker.transport.SSHHTTPAdapter(docker.utils.parse_host(url, False),
                                                  timeout=timeout)
    except Exception:
        return None
    try:
        out, err, status = _ssh_command(adapter.ssh_client, "docker version --format "
                                        "'{{.Server.APIVersion}}'", b"", min(timeout, 15.0))
    except Exception:
        return None
    finally:
        with suppress(Exception):
            adapter.close()
    said = (err.decode(errors="replace") + out.decode(errors="replace")).strip()
    last = said.splitlines()[-1] if said else ""
    if status == 127 or "command not found" in said or "docker: not found" in said:
        return (f"{who}: the SSH login works but there is no `docker` command on the host "
                f"({last or 'exit 127'}); the SSH transport runs `docker system dial-stdio` "
                "there: install the Docker CLI on the host (Debian: `apt install docker.io`, "
                "or docker-ce-cli) or put it on the PATH of non-interactive SSH sessions")
    if status != 0:
        return (f"{who}: connected over SSH but the Docker engine did not answer; "
                f"`docker version` on the host says: {last or f'exit {status}'}; is dockerd "
                "running there, and can this user reach its socket?")
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "FileNotFoundError" in text or "No such file" in text:
        return "no socket there"
    if "Connection refused" in text:
        return "connection refused"
    if "Permission denied" in text:
        return "permission denied on the socket"
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)


def _normalise_ref(ref: str) -> str:
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last or "@" in last else f"{ref}:latest"


def _live_container(raw: dict[str, Any]) -> LiveContainer:
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
    names = raw.get("Names") or ["/"]
    return LiveContainer(
        id=raw["Id"], name=names[0].lstrip("/"), image=raw.get("Image", ""),
        state=raw.get("State", ""), labels=tuple((raw.get("Labels") or {}).items()),
        network_mode=(raw.get("HostConfig") or {}).get("NetworkMode", ""),
        endpoints=tuple(endpoints),
    )


def _live_network(raw: dict[str, Any]) -> LiveNetwork:
    config = ((raw.get("IPAM") or {}).get("Config")) or []
    return LiveNetwork(
        id=raw["Id"], name=raw["Name"], driver=raw.get("Driver", ""),
        scope=raw.get("Scope", ""), labels=tuple((raw.get("Labels") or {}).items()),
        subnets=tuple(c["Subnet"] for c in config if c.get("Subnet")),
    )
