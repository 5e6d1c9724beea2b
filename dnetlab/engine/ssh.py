"""What dnetlab does with an engine's SSH connection beyond the SDK's transport: one pool of
channels per host, and a plain command on the connection already open.

No paramiko import here: the objects come from the SDK's SSH adapter, which loaded it.
"""

from __future__ import annotations

from typing import Any


def one_pool_per_host(api: Any) -> None:
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


def open_client(api: Any) -> Any:
    """The paramiko client under an SDK client over ssh://, None when it has none or its
    connection is closed."""
    adapter = getattr(api, "_custom_adapter", None)
    client = getattr(adapter, "ssh_client", None)
    return client if client is not None and client.get_transport() is not None else None


def run_command(client: Any, command: str, stdin: bytes, timeout: float) -> tuple[
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
