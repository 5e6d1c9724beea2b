"""`exec.exec_many` over SSH on a host that gives channels to its engine's socket: the
first ATTACH_MAX jobs as attached execs (each on a channel of its own), the rest in the
SSH command, results in job order; a host that stops giving channels midway gets the
refused jobs in the command too. The engine and the SSH command are stand-ins here (the
real ones: tests/integration/test_multihost.py)."""

from __future__ import annotations

import json
import re
import struct
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from dnetlab.engine import exec as execs
from dnetlab.engine import hostexec
from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError
from dnetlab.engine.exec import ExecResult
from dnetlab.model import Host


class Engine:
    """Execs print what their script echoes, then the status line it asks for (3); a
    container named `gone` does not exist."""

    def __init__(self, channels: int) -> None:
        self.channels = channels  # how many engine channels the host gives
        self.opened = 0
        self.lock = threading.Lock()


class Channel:
    def __init__(self, engine: Engine) -> None:
        self.engine, self.reply, self.cmd = engine, b"", [""]

    def settimeout(self, t: float) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        head, _, body = data.partition(b"\r\n\r\n")
        if b"/containers/gone/exec" in head:
            said = b'{"message":"No such container: gone"}'
            self.reply = (b"HTTP/1.1 404 Not Found\r\nContent-Length: "
                          + str(len(said)).encode() + b"\r\n\r\n" + said)
        elif b"/exec HTTP" in head:
            self.cmd = json.loads(body)["Cmd"]
            self.reply = b"HTTP/1.1 201 Created\r\nContent-Length: 11\r\n\r\n{\"Id\":\"e1\"}"
        else:
            found = re.match(r"echo (\S+); \( echo (\S+)", self.cmd[2])
            assert found is not None
            mark, said = found.groups()
            out = f"{mark}\n{said}\n\n{mark} 3\n".encode()
            self.reply = (b"HTTP/1.1 101 UPGRADED\r\n\r\n"
                          + struct.pack(">BxxxI", 1, len(out)) + out)

    def recv(self, n: int) -> bytes:
        chunk, self.reply = self.reply[:n], self.reply[n:]
        return chunk

    def close(self) -> None:
        pass


class Adapter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.socket_path: str | None = "/run/docker.sock"
        self.ssh_client = self

    def get_transport(self) -> object:
        return object()

    def open_engine_channel(self, timeout: float) -> Channel | None:
        with self.engine.lock:
            if self.engine.opened >= self.engine.channels:
                self.socket_path = None
                return None
            self.engine.opened += 1
        return Channel(self.engine)


def _conn(engine: Engine) -> Connection:
    api: Any = engine
    api._custom_adapter = Adapter(engine)
    return Connection(Host("h1", "ssh://root@h1"), api, "ssh://root@h1", "1.41")


def _scripted(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The SSH command replaced: each of its jobs answers `scripted <word>`."""
    calls: list[list[str]] = []

    def script(conn: Connection, jobs: Sequence[hostexec.Job], parallel: int) -> list[
            ExecResult | EngineError]:
        calls.append([j.container for j in jobs])
        return [ExecResult(0, "scripted " + j.script.split()[1] + "\n") for j in jobs]

    monkeypatch.setattr(execs, "_exec_script", script)
    return calls


def _jobs(n: int) -> list[hostexec.Job]:
    return [hostexec.Job(f"c{i}", f"echo w{i}") for i in range(n)]


def test_the_first_jobs_are_attached_the_rest_scripted_in_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _scripted(monkeypatch)
    engine = Engine(channels=100)
    got = execs.exec_many(_conn(engine), _jobs(execs.ATTACH_MAX + 3), parallel=4)
    want = [ExecResult(3, f"w{i}\n") for i in range(execs.ATTACH_MAX)]
    want += [ExecResult(0, f"scripted w{i}\n")
             for i in range(execs.ATTACH_MAX, execs.ATTACH_MAX + 3)]
    assert got == want
    assert engine.opened == execs.ATTACH_MAX  # one channel per attached job, no more
    assert calls == [[f"c{i}" for i in range(execs.ATTACH_MAX, execs.ATTACH_MAX + 3)]]


def test_jobs_the_host_refused_a_channel_for_go_in_the_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _scripted(monkeypatch)
    engine = Engine(channels=2)
    got = execs.exec_many(_conn(engine), _jobs(5), parallel=1)
    assert [r.output for r in got if isinstance(r, ExecResult)] == [
        "w0\n", "w1\n", "scripted w2\n", "scripted w3\n", "scripted w4\n"]
    assert calls == [["c2", "c3", "c4"]]


def test_a_container_that_is_gone_is_an_error_of_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _scripted(monkeypatch)
    jobs = [hostexec.Job("c0", "echo a"), hostexec.Job("gone", "echo b")]
    got = execs.exec_many(_conn(Engine(channels=10)), jobs, parallel=2)
    assert got[0] == ExecResult(3, "a\n")
    assert isinstance(got[1], EngineError) and "No such container: gone" in got[1].message


def test_a_script_too_big_for_an_argument_goes_in_the_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _scripted(monkeypatch)
    big = "echo big " + "x" * (hostexec.ARGV_SCRIPT_MAX + 1)
    jobs = [hostexec.Job("c0", big), hostexec.Job("c1", "echo small")]
    got = execs.exec_many(_conn(Engine(channels=10)), jobs, parallel=2)
    assert got == [ExecResult(0, "scripted big\n"), ExecResult(3, "small\n")]
    assert calls == [["c0"]]
