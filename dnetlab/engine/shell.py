"""An interactive shell in a container, wherever it lives (`dnetlab shell`).

Local and tcp:// engines: the user's `docker exec -it` (with `-H URL` when the host names
its engine), which owns the terminal as it always does.

ssh:// engines: a session with a pseudo-terminal on the SSH connection dnetlab already
made for that engine (`sshtransport`: the user's SSH config as dnetlab resolves it, strict
host keys, ProxyJump), running `docker exec -it NAME SHELL` on the host. Not the user's
`ssh -t`: that would resolve the host again with another reader of the config (and maybe
another config, `$DNETLAB_SSH_CONFIG`), accept what the user's ssh accepts, and need an
ssh binary; one connection path means a host that `up` reaches is a host `shell` reaches.
The local terminal is put in raw mode for the session and restored afterwards, window
size changes are passed on, and the exit status of the remote shell is returned.
"""

from __future__ import annotations

import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
from contextlib import suppress
from typing import Any

from dnetlab.engine.connect import Connection, engine_url
from dnetlab.engine.errors import EngineUnreachable, gist
from dnetlab.errors import EnvironmentFailure


def docker_exec_argv(container: str, shell: str, tty: bool) -> list[str]:
    return ["docker", "exec", "-it" if tty else "-i", container, shell]


def run_local(conn: Connection, container: str, shell: str) -> int:
    """`docker exec -it` with the user's docker CLI; its exit status."""
    docker = shutil.which("docker")
    if docker is None:
        raise EnvironmentFailure(f"host {conn.host.key}: `dnetlab shell` runs the docker "
                                 "CLI for a local engine, and none is on PATH")
    argv = docker_exec_argv(container, shell, sys.stdin.isatty())
    if conn.host.engine is not None:
        argv[1:1] = ["-H", engine_url(conn.host)]
    # Ctrl-C belongs to the shell in the container, not to us
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call([docker, *argv[1:]])
    finally:
        signal.signal(signal.SIGINT, previous)


def run_over_ssh(conn: Connection, container: str, shell: str) -> int:
    """`docker exec -it` on the host through a pty session of the engine's SSH
    connection, wired to this terminal; the remote command's exit status."""
    client = conn.ssh_client()
    transport = client.get_transport() if client is not None else None
    if transport is None or not transport.is_active():
        raise EngineUnreachable(f"host {conn.host.key}: no SSH connection to its engine")
    stdin_fd, stdout_fd = sys.stdin.fileno(), sys.stdout.fileno()
    tty = os.isatty(stdin_fd)
    cols, rows = _size(stdout_fd if os.isatty(stdout_fd) else stdin_fd)
    command = shlex.join(docker_exec_argv(container, shell, True))
    try:
        chan = transport.open_session(timeout=conn.timeout)
        chan.get_pty(term=os.environ.get("TERM", "xterm"), width=cols, height=rows)
        chan.exec_command(command)
    except Exception as exc:
        raise EngineUnreachable(f"host {conn.host.key}: could not open a terminal over "
                                f"SSH: {gist(exc)}") from exc
    saved: Any = None
    if tty:
        import termios
        import tty as ttymod

        saved = termios.tcgetattr(stdin_fd)
        ttymod.setraw(stdin_fd)
    old_winch = None
    if tty:
        def resize(signum: int, frame: Any) -> None:
            with suppress(Exception):
                chan.resize_pty(*_size(stdin_fd))

        old_winch = signal.signal(signal.SIGWINCH, resize)
    try:
        _pump(chan, stdin_fd, stdout_fd)
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
        if old_winch is not None:
            signal.signal(signal.SIGWINCH, old_winch)
    # the exit status is a message of its own, which may come a moment after the end of
    # the output: wait for it (bounded) rather than call a finished shell a failure
    status = chan.recv_exit_status() if chan.status_event.wait(10) else 255
    chan.close()
    return int(status)


def _pump(chan: Any, stdin_fd: int, stdout_fd: int) -> None:
    """Copy this terminal to the channel and the channel to this terminal until the
    remote command ends."""
    stdin_open = True
    while True:
        watched = [chan, stdin_fd] if stdin_open else [chan]
        try:
            readable, _, _ = select.select(watched, [], [], 0.5)
        except InterruptedError:  # SIGWINCH
            continue
        if chan in readable or chan.recv_ready():
            data = chan.recv(65536)
            if not data:
                break
            _write_all(stdout_fd, data)
        if chan.recv_stderr_ready():
            _write_all(stdout_fd, chan.recv_stderr(65536))
        if stdin_open and stdin_fd in readable:
            data = os.read(stdin_fd, 4096)
            if data:
                chan.sendall(data)
            else:
                stdin_open = False
                chan.shutdown_write()
        if chan.exit_status_ready() and not chan.recv_ready() and chan.closed:
            break
        if chan.eof_received and not chan.recv_ready():
            break


def _write_all(fd: int, data: bytes) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _size(fd: int) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(fd)
        return size.columns, size.lines
    except OSError:
        return 80, 24
