"""The SSH connection under an ssh:// engine: paramiko connected to the `SSHTarget` the
user's config resolves (`sshconfig`), with strict host keys always, `ProxyJump` as a
`direct-tcpip` channel through the jump host, and the SDK's transport made to use it.

The SDK's own `SSHHTTPAdapter` reads only `~/.ssh/config`, and of it only `HostName`,
`Port`, `User`, `IdentityFile` and `ProxyCommand`: no `ProxyJump`, no
`UserKnownHostsFile` (it loads `~/.ssh/known_hosts` alone), no `IdentitiesOnly`, no
`Include`. `ResolvedSSHAdapter` replaces its client with one made here, and keeps one pool
of channels per host (the SDK keys its pools by request URL, docker/docker-py#2966, so it
opened a channel for nearly every request).

Each channel of that pool is, where the host allows it, OpenSSH's channel to a Unix
socket (`direct-streamlocal@openssh.com`, what `ssh -L PORT:/path` opens) straight to the
engine's socket: sshd connects the socket and nothing starts on the host. The SDK's
channel instead starts the user's login shell and `docker system dial-stdio` (some 15-20
ms of CPU on the host each). The socket's path is asked once per connection
(`ssh.SOCKET_QUERY`); where the CLI would go elsewhere (a context), or sshd forwards no
socket (`AllowStreamLocalForwarding no`), the channels are the SDK's.

Imported only once an ssh:// engine is used (`connect.load_sdk`): it imports paramiko.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paramiko
from docker.transport.sshconn import SSHConnection, SSHConnectionPool, SSHHTTPAdapter
from paramiko.common import cMSG_CHANNEL_OPEN

from dnetlab.engine.ssh import SOCKET_QUERY, PreparedCommand, engine_socket, run_command
from dnetlab.engine.sshconfig import HopError, JumpChannelError, SSHTarget, resolve_url

HOST_POOL = "ssh-host"  # the one pool key of an adapter: every request shares its channels
_given = threading.local()  # the target of the adapter this thread's APIClient makes


@contextmanager
def resolved_as(target: SSHTarget, prepare: str | None = None) -> Iterator[None]:
    """Make the SDK client created in the block use `target`. The SDK hands its adapter
    the URL rewritten with ":22" added when no port was written, which would hide the
    config's `Port`: the target resolved from the URL as written is passed alongside.
    `prepare`: a command to start on a session of its own as soon as the connection is
    up (`ssh.PreparedCommand`), taken later with `ssh.take_prepared`."""
    _given.target, _given.prepare = target, prepare
    try:
        yield
    finally:
        _given.target = _given.prepare = None


STREAMLOCAL = "direct-streamlocal@openssh.com"
_QUERY_REPLY_MAX = 128 * 1024


class StreamLocalTransport(paramiko.Transport):
    """paramiko's transport, able to open OpenSSH's channel to a Unix socket on the
    server. paramiko writes the fields of the channel kinds it knows only; this kind's
    (socket path, reserved string, reserved uint32) are added to the open request it
    builds, in the thread that builds it."""

    _path = threading.local()

    def open_streamlocal(self, path: str, timeout: float | None = None) -> paramiko.Channel:
        self._path.value = path
        try:
            return self.open_channel(STREAMLOCAL, timeout=timeout)
        finally:
            self._path.value = None

    def _send_user_message(self, data: Any) -> None:
        path = getattr(self._path, "value", None)
        if path is not None and data.asbytes()[:1] == cMSG_CHANNEL_OPEN:
            self._path.value = None
            data.add_string(path)
            data.add_string("")
            data.add_int(0)
        super()._send_user_message(data)  # type: ignore[misc]  # private: not in the stubs


class JumpedClient(paramiko.SSHClient):
    """An SSH client that owns the jump host's client its connection runs through."""

    jump: paramiko.SSHClient | None = None

    def close(self) -> None:
        super().close()
        if self.jump is not None:
            self.jump.close()
            self.jump = None


def connect(target: SSHTarget, timeout: float) -> JumpedClient:
    """A connected client for `target`. A failure on the way to a jump host is a
    `HopError` naming that hop; the jump host's refusal to forward, `JumpChannelError`."""
    jump: JumpedClient | None = None
    sock: Any = None
    if target.jump is not None:
        try:
            jump = connect(target.jump, timeout)
        except (HopError, JumpChannelError):
            raise
        except Exception as exc:
            raise HopError(target.jump, exc) from exc
        transport = jump.get_transport()
        try:
            if transport is None:
                raise paramiko.SSHException("the connection closed")
            sock = transport.open_channel("direct-tcpip", (target.hostname, target.port),
                                          ("127.0.0.1", 0), timeout=timeout)
        except Exception as exc:
            jump.close()
            raise JumpChannelError(target.jump, target, exc) from exc
    elif target.proxy_command:
        sock = paramiko.ProxyCommand(target.proxy_command)
    client = JumpedClient()
    client.jump = jump
    try:
        _load_host_keys(client, target)
        # whatever the config says (StrictHostKeyChecking no, say): an unknown key is
        # refused, never added
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        # ssh skips an IdentityFile that does not exist; paramiko would fail on it
        keys = [k for k in target.identity_files if os.path.exists(k)]
        client.connect(
            target.hostname, target.port, target.user,
            # paramiko takes a list (its docs say so; the stubs say str only)
            key_filename=keys or None,  # type: ignore[arg-type]
            # IdentitiesOnly: the configured files and nothing else (no agent); without
            # IdentityFile, ssh's default keys are tried, as ssh does
            allow_agent=not target.identities_only,
            look_for_keys=not target.identity_files, sock=sock,
            timeout=target.connect_timeout or timeout, banner_timeout=timeout,
            # the stubs' factory protocol has keyword-only arguments that paramiko passes
            # by keyword and Transport takes: the class fits
            auth_timeout=timeout,
            transport_factory=StreamLocalTransport)  # type: ignore[arg-type]
    except BaseException:
        client.close()
        raise
    return client


def _load_host_keys(client: paramiko.SSHClient, target: SSHTarget) -> None:
    """The known_hosts files the config names (those that exist), as ssh reads them."""
    for path in target.global_known_hosts:
        if os.path.isfile(path):
            client.load_system_host_keys(path)
    for path in target.known_hosts:
        if os.path.isfile(path):
            client.get_host_keys().load(path)


class ResolvedSSHAdapter(SSHHTTPAdapter):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's SSH adapter on a client connected to the resolved target, one channel
    pool per host, reconnecting (and making a new pool) when the connection died."""

    def __init__(self, base_url: str, timeout: float = 60, *args: Any, **kwargs: Any) -> None:
        self.connect_timeout = float(timeout)  # the parent connects before it sets timeout
        super().__init__(base_url, timeout, *args, **kwargs)

    def _create_paramiko_client(self, base_url: str) -> None:
        given = getattr(_given, "target", None)
        self.target = given if given is not None else resolve_url(base_url)
        self.ssh_client: JumpedClient | None = None
        self.ssh_params: dict[str, Any] = {}
        self.prepare: str | None = getattr(_given, "prepare", None)
        self.prepared: PreparedCommand | None = None
        self.socket_path: str | None = None  # the engine's socket on the host, if reachable

    def _connect(self) -> None:
        old, self.ssh_client = self.ssh_client, None
        if old is not None:
            old.close()
        self.ssh_client = connect(self.target, self.connect_timeout)
        if self.prepare is not None:
            # the first connection only: its session starts while the socket is asked for
            # and the SDK asks for /version
            self.prepared = PreparedCommand(self.ssh_client, self.prepare,
                                            self.connect_timeout)
            self.prepare = None
        self.socket_path = self._ask_socket(self.ssh_client)

    def _ask_socket(self, client: JumpedClient) -> str | None:
        try:
            out, _, status = run_command(client, SOCKET_QUERY, b"", self.connect_timeout)
        except (OSError, EOFError, paramiko.SSHException):
            return None  # the SDK's channels will say what is wrong with the host
        if status != 0 or len(out) > _QUERY_REPLY_MAX:
            return None
        return engine_socket(out.decode(errors="replace"))

    def open_engine_channel(self, timeout: float) -> paramiko.Channel | None:
        """A new channel to the engine's socket; None when the host gives none. The
        first refusal (sshd forwards no socket, or cannot connect it) turns the channels
        back to the SDK's for good."""
        path = self.socket_path
        transport = self.ssh_client.get_transport() if self.ssh_client else None
        if path is None or not isinstance(transport, StreamLocalTransport):
            return None
        try:
            return transport.open_streamlocal(path, timeout)
        except paramiko.ChannelException:
            self.socket_path = None
            return None

    def close(self) -> None:
        prepared, self.prepared = self.prepared, None
        if prepared is not None:
            prepared.discard()
        super().close()

    def get_connection(self, url: str, proxies: Any = None) -> Any:
        with self.pools.lock:
            transport = self.ssh_client.get_transport() if self.ssh_client else None
            if transport is None or not transport.is_active():
                self._connect()  # raises when the host cannot be reached again
                transport = self.ssh_client.get_transport() if self.ssh_client else None
            pool = self.pools.get(HOST_POOL)
            if pool is None or pool.ssh_transport is not transport:
                # a pool made before a reconnect holds the dead transport
                pool = EnginePool(self, ssh_client=self.ssh_client, timeout=self.timeout,
                                  maxsize=self.max_pool_size, host=self.ssh_host)
                self.pools[HOST_POOL] = pool
            return pool


class EnginePool(SSHConnectionPool):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's pool of a host's channels, whose new channels go to the engine's socket
    where the adapter can open one."""

    def __init__(self, adapter: ResolvedSSHAdapter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.adapter = adapter

    def _new_conn(self) -> SSHConnection:
        return EngineConnection(self.adapter, self.ssh_transport, self.timeout, self.ssh_host)


class EngineConnection(SSHConnection):  # type: ignore[misc]  # the SDK is untyped
    def __init__(self, adapter: ResolvedSSHAdapter, *args: Any) -> None:
        super().__init__(*args)
        self.adapter = adapter

    def connect(self) -> None:
        chan = self.adapter.open_engine_channel(self.timeout)
        if chan is None:
            super().connect()  # a session running `docker system dial-stdio`
            return
        chan.settimeout(self.timeout)
        self.sock = chan
