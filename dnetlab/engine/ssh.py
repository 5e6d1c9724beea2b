"""What dnetlab does with an engine's SSH connection beyond the SDK's requests: a plain
command on the connection already open (the connection itself, and its one pool of
channels per host, are `sshtransport`'s).

No paramiko import here: the objects come from the SSH adapter, which loaded it.
"""

from __future__ import annotations

from typing import Any


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
