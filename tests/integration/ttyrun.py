"""Drive a command through a pseudo-terminal (the standard library's `pty`), as a person at
a terminal would: for `dnetlab shell`."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import sys
import time
from pathlib import Path


class Terminal:
    def __init__(self, args: list[str], cwd: Path) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: the command on the pty
            os.chdir(cwd)
            os.execv(sys.executable, [sys.executable, *args])
        self.pid, self.fd = pid, fd
        self.seen = b""

    def expect(self, what: bytes, timeout: float = 30.0) -> bytes:
        deadline = time.monotonic() + timeout
        while what not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what!r} not seen within {timeout} s: {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{what!r} not seen before the end: {self.seen!r}")
                self.seen += chunk
        return self.seen

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 30.0) -> int:
        """The child's exit status, reading what it still prints."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                with contextlib.suppress(OSError):
                    self.seen += os.read(self.fd, 4096)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the command did not end within {timeout} s: {self.seen!r}")


def shell_session(cwd: Path, container: str) -> tuple[int, bytes]:
    """`dnetlab shell CONTAINER` on a pty: `echo hello-$((1+1))`, then `exit 3`."""
    term = Terminal(["-m", "dnetlab", "shell", container], cwd)
    term.expect(b"#", timeout=60)  # busybox sh's prompt as root
    term.send("echo hello-$((1+1))\r")
    term.expect(b"hello-2\r\n")
    term.send("exit 3\r")
    return term.wait(), term.seen
