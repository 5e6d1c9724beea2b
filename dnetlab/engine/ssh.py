"""What dnetlab does with an engine's SSH connection beyond the SDK's requests: a plain
command on the connection already open (the connection itself, and its one pool of
channels per host, are `sshtransport`'s), such a command started ahead of need, and
finding the engine's socket on the host.

No paramiko import here: the objects come from the SSH adapter, which loaded it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

# How long `PreparedCommand.take` waits for the session it started: the channel's own
# open has the connection's timeout; this only bounds a wait on a thread that never ran.
_TAKE_WAIT_S = 60.0


# What `docker system dial-stdio` would connect to, as the host's login environment
# says: DOCKER_HOST, DOCKER_CONTEXT, the CLI config's current context. In `sh -c`, so
# that a login shell that is not POSIX (fish) runs it too.
SOCKET_QUERY = ("sh -c 'printf \"%s\\n%s\\n\" \"${DOCKER_HOST-}\" \"${DOCKER_CONTEXT-}\"; "
                "head -c 65536 \"${DOCKER_CONFIG:-$HOME/.docker}/config.json\" 2>/dev/null; "
                "exit 0'")
DEFAULT_SOCKET = "/var/run/docker.sock"


def engine_socket(reply: str) -> str | None:
    """The path of the engine's Unix socket on the host from `SOCKET_QUERY`'s reply; None
    when the CLI would go elsewhere (a context, tcp://, ssh://), which only
    `docker system dial-stdio` follows."""
    host, _, rest = reply.partition("\n")
    context, _, config = rest.partition("\n")
    if context.strip() not in ("", "default"):
        return None
    if not host.strip():
        try:
            current = json.loads(config).get("currentContext") if config.strip() else None
        except (ValueError, AttributeError):
            return None  # a config the CLI reads and we cannot: leave it to the CLI
        if current not in (None, "", "default"):
            return None
        return DEFAULT_SOCKET
    url = host.strip()
    if url.startswith("unix://") and len(url) > len("unix://"):
        return url[len("unix://"):]
    return None


def open_client(api: Any) -> Any:
    """The paramiko client under an SDK client over ssh://, None when it has none or its
    connection is closed."""
    adapter = getattr(api, "_custom_adapter", None)
    client = getattr(adapter, "ssh_client", None)
    return client if client is not None and client.get_transport() is not None else None


def engine_channel(api: Any, timeout: float) -> Any:
    """A new channel straight to the engine's socket of an SDK client over ssh:// (see
    `sshtransport`), None when the host gives none (then every request costs a
    `docker system dial-stdio`)."""
    adapter = getattr(api, "_custom_adapter", None)
    opener = getattr(adapter, "open_engine_channel", None)
    return opener(timeout) if opener is not None else None


def streams_to_engine(api: Any) -> bool:
    """True when the SDK client over ssh:// reaches the engine's socket by channels of
    its own (no `docker` process on the host per request)."""
    adapter = getattr(api, "_custom_adapter", None)
    return getattr(adapter, "socket_path", None) is not None


def take_prepared(api: Any, command: str) -> Any:
    """The channel already running `command` that the SDK client's connection started
    when it was made (`PreparedCommand`), once; None when there is none (or it failed)."""
    adapter: Any = getattr(api, "_custom_adapter", None)
    prepared: PreparedCommand | None = getattr(adapter, "prepared", None)
    if prepared is None or prepared.command != command:
        return None
    adapter.prepared = None
    return prepared.take()


def open_command(client: Any, command: str, timeout: float) -> Any:
    """A new session of an open paramiko client, running `command`."""
    chan = client.get_transport().open_session(timeout=timeout)
    try:
        chan.settimeout(timeout)
        chan.exec_command(command)
    except BaseException:
        chan.close()
        raise
    return chan


class PreparedCommand:
    """A command started on a new session as soon as the connection is up, in the
    background, so that the session's set-up (sshd starting the user's login shell, which
    then reads its rc files) overlaps the SDK's first channel and the reads, instead of
    following them. `verify` prepares its batch command (`sh -s`, which waits for its
    script on stdin) this way; a prepared command never used just reads EOF and ends."""

    def __init__(self, client: Any, command: str, timeout: float) -> None:
        self.command = command
        self._chan: Any = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._open, args=(client, timeout),
                                        name=f"dnetlab-prepare-{command}", daemon=True)
        self._thread.start()

    def _open(self, client: Any, timeout: float) -> None:
        try:
            self._chan = open_command(client, self.command, timeout)
        except Exception:  # the caller opens its own session instead
            self._chan = None
        finally:
            self._done.set()

    def take(self) -> Any:
        """The channel, once it is open and still usable; None otherwise."""
        self._done.wait(_TAKE_WAIT_S)
        chan, self._chan = self._chan, None
        if chan is not None and (chan.closed or chan.exit_status_ready()):
            chan.close()  # the host ended it (sshd restarted, shell gone): not usable
            return None
        return chan

    def discard(self) -> None:
        chan = self.take()
        if chan is not None:
            chan.close()


def run_command(client: Any, command: str, stdin: bytes, timeout: float,
                chan: Any = None) -> tuple[bytes, bytes, int]:
    """Run `command` on a new session of an open paramiko client (or on `chan`, a session
    already running it): its stdout, stderr and exit status. Stderr is read alongside
    stdout so that neither can stall the other."""
    if chan is None:
        chan = open_command(client, command, timeout)
    try:
        chan.settimeout(timeout)
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
