"""A paramiko session channel as `exec_many` uses it, for unit tests: what was sent is
kept, `reply` is read back once, stderr is empty. Subclasses say what the host answers
and how the command ends."""

from __future__ import annotations


class FakeChannel:
    def __init__(self) -> None:
        self.commands: list[str] = []
        self.sent = b""
        self.reply = b""
        self.closed = False

    def settimeout(self, t: float) -> None:
        pass

    def exec_command(self, command: str) -> None:
        self.commands.append(command)

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def shutdown_write(self) -> None:
        pass

    def recv_stderr_ready(self) -> bool:
        return False

    def recv(self, n: int) -> bytes:
        data, self.reply = self.reply, b""
        return data

    def recv_stderr(self, n: int) -> bytes:
        return b""

    def recv_exit_status(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True
