"""An exec made and run on a stream of its own to the engine, read byte for byte: `POST
/containers/ID/exec` and `POST /exec/ID/start` written by hand on one connection (the
engine keeps it open after the first answer, then hands it to the exec), each answer's
head read up to its blank line and its body by its length, then the exec's multiplexed
frames (8-byte header: stream, 3 zero bytes, big-endian size) until the engine closes
the stream at the exec's end.

The SDK's hijack reads the head through a buffered reader and the rest from the raw
socket under it: output that came in the same read as the head stays in the reader's
buffer and is lost. Over an SSH channel, sshd forwards what it read from the engine's
socket in one packet, so the head and the first output do come together now and then.

Works on anything with `sendall` and `recv` (a socket, a paramiko channel).
"""

from __future__ import annotations

import json
import struct
from typing import Protocol

_HEAD_MAX = 64 * 1024  # an answer's head or body longer than this is not the engine's


class Stream(Protocol):
    def sendall(self, data: bytes) -> None: ...

    def recv(self, n: int) -> bytes: ...


class ExecRefused(Exception):
    """The engine answered with an error status (no such container, the container is not
    running...). A stream cut before an answer is an `EOFError`."""


class EngineStream:
    """One connection to the engine: an exec created, then started, on it."""

    def __init__(self, stream: Stream, api_version: str) -> None:
        self.stream = stream
        self.prefix = f"/v{api_version}"
        self.buf = bytearray()

    def create_exec(self, container: str, argv: list[str], user: str) -> str:
        """The new exec's ID."""
        self._request(f"/containers/{container}/exec", {
            "AttachStdin": False, "AttachStdout": True, "AttachStderr": True, "Tty": False,
            "Cmd": argv, "User": user})
        status, head = self._head()
        body = self._body(head)
        if status != 201:
            raise ExecRefused(_refusal(head, body))
        try:
            return str(json.loads(body)["Id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ExecRefused(f"no exec ID in the engine's answer: {body[:200]!r}") from exc

    def start_exec(self, exec_id: str) -> bytes:
        """Start the exec and return its stdout and stderr as they came, interleaved (as
        the SDK's `exec_start(demux=False)` does), once the engine ends the stream."""
        self._request(f"/exec/{exec_id}/start", {"Detach": False, "Tty": False},
                      upgrade=True)
        status, head = self._head()
        if status not in (101, 200):
            raise ExecRefused(_refusal(head, self._body(head)))
        out = bytearray()
        pending = self.buf
        while True:
            while len(pending) >= 8:
                size = struct.unpack(">I", bytes(pending[4:8]))[0]
                if len(pending) < 8 + size:
                    break
                out += pending[8:8 + size]
                del pending[:8 + size]
            data = self.stream.recv(65536)
            if not data:
                return bytes(out)
            pending += data

    def _request(self, path: str, payload: dict[str, object], upgrade: bool = False) -> None:
        body = json.dumps(payload).encode()
        head = (f"POST {self.prefix}{path} HTTP/1.1\r\nHost: docker\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                + ("Connection: Upgrade\r\nUpgrade: tcp\r\n" if upgrade else "") + "\r\n")
        self.stream.sendall(head.encode() + body)

    def _head(self) -> tuple[int, bytes]:
        """The status and head of the next answer; what came after it stays in `buf`."""
        head = self._until(b"\r\n\r\n", "no end of headers", "before answering")
        parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
        try:
            return int(parts[1]), head
        except (IndexError, ValueError):
            raise ExecRefused(f"not an HTTP answer: {head[:200]!r}") from None

    def _body(self, head: bytes) -> bytes:
        """The answer's body, by its Content-Length or its chunks (the engine keeps the
        connection open: nothing tells the end but the length)."""
        fields = {name.strip().lower(): value.strip() for name, _, value in
                  (line.partition(b":") for line in head.split(b"\r\n")[1:])}
        if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = bytearray()
            while True:
                line = self._line()
                size = int(line.split(b";")[0] or b"0", 16)
                if size == 0:
                    self._line()  # the blank line after the last chunk
                    return bytes(body)
                if len(body) + size > _HEAD_MAX:
                    raise ExecRefused("the engine's answer is too long")
                body += self._exact(size)
                self._line()
        length = fields.get(b"content-length", b"0")
        if not length.isdigit() or int(length) > _HEAD_MAX:
            raise ExecRefused(f"the engine's answer has a bad length: {length[:20]!r}")
        return self._exact(int(length))

    def _line(self) -> bytes:
        return self._until(b"\r\n", "a line with no end", "in the middle of an answer")

    def _until(self, end: bytes, missing: str, when: str) -> bytes:
        """What comes before `end` (taken off `buf` with it), read as needed; refused past
        _HEAD_MAX bytes without it."""
        while (at := self.buf.find(end)) < 0:
            if len(self.buf) > _HEAD_MAX:
                raise ExecRefused(f"the engine's answer has {missing}")
            self._more(when)
        data = bytes(self.buf[:at])
        del self.buf[:at + len(end)]
        return data

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more("in the middle of an answer")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _more(self, when: str) -> None:
        data = self.stream.recv(65536)
        if not data:
            raise EOFError(f"the engine closed the stream {when}")
        self.buf += data


def _refusal(head: bytes, body: bytes) -> str:
    """The engine's refusal: its status line and its message (JSON `message`)."""
    status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
    text = body.decode(errors="replace").strip()
    try:
        message = str(json.loads(text).get("message", text))
    except (ValueError, AttributeError):
        message = text[:200]
    return f"{status_line}: {message}" if message else status_line
