"""`hijack.EngineStream`: an exec made and run on one stream to the engine, its output read
byte for byte whatever the pieces the stream delivers it in (the engine's head and the
first output in one piece is what the SDK's own hijack loses)."""

from __future__ import annotations

import json
import struct
import time
import tracemalloc

import pytest

from dnetlab.engine import hijack

CREATED = b'{"Id":"abc"}'
CREATE = (b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: "
          + str(len(CREATED)).encode() + b"\r\n\r\n" + CREATED)
UPGRADED = (b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
            b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")


def frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


class Pieces:
    """A stream that answers each request with the next reply, handed out in pieces of
    `step` bytes (all at once when 0), then EOF."""

    def __init__(self, *replies: bytes, step: int = 0) -> None:
        self.replies = list(replies)
        self.sent: list[bytes] = []
        self.pending = b""
        self.step = step

    def sendall(self, data: bytes) -> None:
        self.sent.append(data)
        if self.replies:
            self.pending += self.replies.pop(0)

    def recv(self, n: int) -> bytes:
        n = min(n, self.step or n)
        chunk, self.pending = self.pending[:n], self.pending[n:]
        return chunk


BODY = frame(1, b"PING 10.0.0.2\n") + frame(2, b"warn\n") + frame(1, b"1 received\n")
WANT = b"PING 10.0.0.2\nwarn\n1 received\n"


def run(stream: Pieces) -> bytes:
    es = hijack.EngineStream(stream, "1.41")
    return es.start_exec(es.create_exec("c1", ["sh", "-c", "ping x"], "nobody"))


@pytest.mark.parametrize("step", [0, 1, 3, 7, 100])
def test_the_output_is_whole_however_it_comes(step: int) -> None:
    stream = Pieces(CREATE, UPGRADED + BODY, step=step)
    assert run(stream) == WANT
    create, start = stream.sent
    head, _, body = create.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1.41/containers/c1/exec HTTP/1.1\r\n")
    assert json.loads(body) == {"AttachStdin": False, "AttachStdout": True,
                                "AttachStderr": True, "Tty": False,
                                "Cmd": ["sh", "-c", "ping x"], "User": "nobody"}
    head, _, body = start.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1.41/exec/abc/start HTTP/1.1\r\n")
    assert b"Upgrade: tcp" in head and json.loads(body) == {"Detach": False, "Tty": False}


def test_a_chunked_answer_and_a_200_stream_are_taken_too() -> None:
    chunked = (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\n{\"Id\"\r\n7\r\n:\"abc\"}\r\n0\r\n\r\n")
    plain = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
    assert run(Pieces(chunked, plain + frame(1, b"ok\n"), step=4)) == b"ok\n"


def test_a_refusal_says_the_engine_s_message_without_waiting_for_the_stream_end() -> None:
    body = b'{"message":"No such container: c1"}'
    reply = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
             b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    class KeptOpen(Pieces):
        def recv(self, n: int) -> bytes:  # the engine keeps the connection open
            if not self.pending:
                raise AssertionError("read past the answer")
            return super().recv(n)

    with pytest.raises(hijack.ExecRefused) as caught:
        run(KeptOpen(reply, step=7))
    assert str(caught.value) == "HTTP/1.1 404 Not Found: No such container: c1"


def test_a_refused_start_says_why() -> None:
    body = b'{"message":"container c1 is not running"}'
    reply = (b"HTTP/1.1 409 Conflict\r\nContent-Length: " + str(len(body)).encode()
             + b"\r\n\r\n" + body)
    with pytest.raises(hijack.ExecRefused, match="409 Conflict: container c1 is not running"):
        run(Pieces(CREATE, reply))


def test_a_stream_cut_before_an_answer_is_a_lost_connection() -> None:
    with pytest.raises(EOFError):
        run(Pieces(CREATE, b"HTTP/1.1 101 UPGR"))
    with pytest.raises(EOFError):
        run(Pieces(CREATE[:30]))


@pytest.mark.parametrize("reply", [
    b"X" * (1 << 20),  # a head with no end
    b"HTTP/1.1 201 Created\r\nContent-Length: 99999999999\r\n\r\n",  # a body too long
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n" + b"F" * (1 << 20),
])
def test_an_answer_that_is_not_the_engine_s_is_refused_in_bounded_time_and_memory(
        reply: bytes) -> None:
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(hijack.ExecRefused):
        run(Pieces(reply, step=65536))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.monotonic() - started < 2 and peak < 16 * 1024 * 1024
