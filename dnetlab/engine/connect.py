"""How dnetlab talks to one host's engine: a `Connection` made once per host and reused by
every operation on it.

Three transports, chosen for speed: a local `unix://` engine is read with the standard
library over its socket (`SocketReader`), and the SDK is loaded only when something is to
be changed; other engines get the SDK client at once, over `ssh://` on a connection made
with the user's SSH config and one pool of SSH channels per host (`sshtransport`). A
connection that fails says why (`diagnose`).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from dnetlab.engine import diagnose, ssh, sshconfig
from dnetlab.engine.errors import EngineError, EngineUnreachable, translated
from dnetlab.errors import EnvironmentFailure
from dnetlab.model import Host

MIN_API = (1, 41)  # Docker 20.10, as Debian 12 ships it
DEFAULT_SOCKET = "unix:///var/run/docker.sock"

_import_lock = threading.Lock()


def load_sdk(need_ssh: bool) -> Any:
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

        if need_ssh:
            # the SDK's own adapter reads little of the user's SSH config (see
            # sshtransport): every ssh:// client gets dnetlab's, which reads all of it
            from dnetlab.engine.sshtransport import ResolvedSSHAdapter

            api_client.SSHHTTPAdapter = ResolvedSSHAdapter
        return docker


def engine_url(host: Host) -> str:
    return host.engine or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


class SocketReader:
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


class Connection:
    """One connection to one host's engine, reused by every operation on it."""

    def __init__(self, host: Host, api: Any, url: str, api_version: str = "",
                 reader: SocketReader | None = None, timeout: float = 30.0) -> None:
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
            docker = load_sdk(False)
            self._api = docker.APIClient(base_url=self.url, version=self.api_version,
                                         timeout=self.timeout)
        return self._api

    def sdk(self) -> Any:
        """The SDK module, for its types and exception classes."""
        self.api  # noqa: B018 - loads the SDK and makes the client
        return sys.modules["docker"]

    def read(self, what: str, url: str, sdk_call: Callable[[], Any]) -> Any:
        """GET `url` through the socket reader where there is one, else `sdk_call()`: the
        same JSON either way, and a failure as an `EngineError` naming `what`."""
        with translated(f"host {self.host.key}: reading {what}"):
            if self.reader is not None:
                try:
                    return self.reader.get(url)
                except OSError as exc:
                    raise EngineUnreachable(f"host {self.host.key}: reading {what}: "
                                            f"{exc}") from exc
            return sdk_call()

    def ssh_client(self) -> Any:
        """The open paramiko client of an ssh:// engine, else None."""
        if not self.url.startswith("ssh://") or self._api is None:
            return None
        return ssh.open_client(self._api)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


_preparing = threading.local()  # the command `preparing` asks for, in this thread


@contextmanager
def preparing(command: str) -> Iterator[None]:
    """Connections to ssh:// engines opened in the block (in this thread) start `command`
    on a session of their own as soon as they are up (`ssh.PreparedCommand`), for
    `ssh.take_prepared`; other engines ignore it."""
    _preparing.command = command
    try:
        yield
    finally:
        _preparing.command = None


def open_connection(host: Host, timeout: float = 30.0) -> Connection:
    url = engine_url(host)
    if url.startswith("unix://"):
        return _open_socket(host, url, timeout)
    docker = load_sdk(url.startswith("ssh://"))
    try:
        with _ssh_target(url, getattr(_preparing, "command", None)):
            if host.engine is None:
                kwargs = docker.utils.kwargs_from_env()
                kwargs.setdefault("base_url", DEFAULT_SOCKET)
                api = docker.APIClient(version="auto", timeout=timeout, **kwargs)
            else:
                api = docker.APIClient(base_url=url, version="auto", timeout=timeout,
                                       use_ssh_client=False)
    except Exception as exc:
        if url.startswith("ssh://"):
            raise EnvironmentFailure(diagnose.ssh_failure_asking_the_host(
                host, url, exc, timeout)) from exc
        raise diagnose.unreachable(host, url, exc) from exc
    # version="auto" already asked the engine for its version: no second call
    conn = Connection(host, api, url)
    _check_api(host, url, conn.api_version)
    return conn


def _ssh_target(url: str, prepare: str | None = None) -> AbstractContextManager[None]:
    """For an ssh:// URL, the SSH target its client connects to: the URL as written, with
    the user's SSH config (see `sshtransport.resolved_as`), and the command to prepare."""
    if not url.startswith("ssh://"):
        return nullcontext()
    from dnetlab.engine import sshtransport  # loaded with the SDK's SSH support

    return sshtransport.resolved_as(sshconfig.resolve_url(url), prepare)


def _open_socket(host: Host, url: str, timeout: float) -> Connection:
    reader = SocketReader(url[len("unix://"):], timeout)
    try:
        info = reader.get("/version")
    except (OSError, EngineError, ValueError) as exc:
        raise diagnose.unreachable(host, url, exc) from exc
    version = str(info.get("ApiVersion", ""))
    _check_api(host, url, version)
    reader.prefix = f"/v{version}"
    conn = Connection(host, None, url, version, reader, timeout)
    conn.server_version = str(info.get("Version", ""))
    return conn


def _check_api(host: Host, url: str, version: str) -> None:
    if _version_tuple(version) < MIN_API:
        raise EnvironmentFailure(
            f"host {host.key!r}: the engine at {url} speaks API {version}, older than the "
            f"{MIN_API[0]}.{MIN_API[1]} dnetlab needs (Docker 20.10 or newer)")


def _version_tuple(v: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (0,)
