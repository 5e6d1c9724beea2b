"""A command started ahead of need on its own SSH session (`ssh.PreparedCommand`): verify's
batch runs on the session prepared when the host's connection came up, once, and falls
back to a new session when there is none or the host ended it."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import paramiko

from dnetlab.engine import hostexec
from dnetlab.engine.connect import Connection
from dnetlab.engine.exec import ExecResult, exec_many
from dnetlab.engine.hostexec import Job, host_script
from dnetlab.engine.ssh import PreparedCommand, take_prepared
from dnetlab.model import Host
from tests.unit.engine.fakechannel import FakeChannel


class Channel(FakeChannel):
    def __init__(self, transport: Transport) -> None:
        super().__init__()
        self.transport = transport
        self.ended = False  # the host ended the command (exit status in)

    def exit_status_ready(self) -> bool:
        return self.ended

    def sendall(self, data: bytes) -> None:
        super().sendall(data)
        # the host runs what it was sent: reply as the batch script would
        self.reply = self.transport.answer(data)


class Transport:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.opened: list[Channel] = []
        self.gate = threading.Event()
        self.gate.set()

    def open_session(self, timeout: float) -> Channel:
        self.gate.wait(5)
        if self.fail:
            raise paramiko.SSHException("administratively prohibited")
        chan = Channel(self)
        self.opened.append(chan)
        return chan

    def is_active(self) -> bool:
        return True

    def answer(self, script: bytes) -> bytes:
        # the mark is in the script's first job line: `echo MARK;`
        mark = script.decode().split("echo ", 1)[1].split(";", 1)[0]
        return b"".join(f"{mark} {i} 0 {len(mark) + 4} 0\n{mark}\nok\n".encode()
                        for i in range(2))


JOBS = [Job("c1", "echo ok"), Job("c2", "echo ok")]


def _conn(transport: Transport, prepared: PreparedCommand | None) -> Connection:
    client = SimpleNamespace(get_transport=lambda: transport)
    adapter = SimpleNamespace(ssh_client=client, prepared=prepared)
    api: Any = SimpleNamespace(_custom_adapter=adapter, api_version="1.41")
    return Connection(Host("h1", "ssh://root@10.99.0.1"), api, "ssh://root@10.99.0.1")


def _client(transport: Transport) -> Any:
    return SimpleNamespace(get_transport=lambda: transport)


def test_the_prepared_session_runs_the_command_at_once_in_the_background() -> None:
    t = Transport()
    t.gate.clear()  # the session's open is slow: the caller does not wait for it
    prepared = PreparedCommand(_client(t), hostexec.COMMAND, 5.0)
    assert t.opened == []
    t.gate.set()
    chan = prepared.take()
    assert chan is t.opened[0]
    assert chan.commands == ["sh -s"]


def test_exec_many_runs_its_batch_on_the_prepared_session_and_opens_none() -> None:
    t = Transport()
    conn = _conn(t, PreparedCommand(_client(t), hostexec.COMMAND, 5.0))
    out = exec_many(conn, JOBS, 2)
    assert out == [ExecResult(0, "ok\n"), ExecResult(0, "ok\n")]
    assert len(t.opened) == 1  # the prepared one, nothing more
    assert t.opened[0].sent.startswith(b"d=$(mktemp")
    assert t.opened[0].closed


def test_the_prepared_session_is_used_once_then_new_ones_are_opened() -> None:
    t = Transport()
    conn = _conn(t, PreparedCommand(_client(t), hostexec.COMMAND, 5.0))
    exec_many(conn, JOBS, 2)
    out = exec_many(conn, JOBS, 2)  # a second round
    assert out == [ExecResult(0, "ok\n"), ExecResult(0, "ok\n")]
    assert len(t.opened) == 2
    assert t.opened[1].commands == ["sh -s"]


def test_a_prepared_session_the_host_has_ended_is_not_used() -> None:
    t = Transport()
    prepared = PreparedCommand(_client(t), hostexec.COMMAND, 5.0)
    prepared._done.wait(5)
    t.opened[0].ended = True  # sshd restarted, say: its shell is gone
    conn = _conn(t, prepared)
    out = exec_many(conn, JOBS, 2)
    assert out == [ExecResult(0, "ok\n"), ExecResult(0, "ok\n")]
    assert len(t.opened) == 2
    assert t.opened[0].closed and t.opened[0].sent == b""
    assert t.opened[1].sent.startswith(b"d=$(mktemp")


def test_a_prepared_session_that_could_not_open_leaves_the_caller_its_own() -> None:
    t = Transport(fail=True)
    prepared = PreparedCommand(_client(t), hostexec.COMMAND, 5.0)
    assert prepared.take() is None
    t.fail = False
    out = exec_many(_conn(t, prepared), JOBS, 2)
    assert out == [ExecResult(0, "ok\n"), ExecResult(0, "ok\n")]
    assert len(t.opened) == 1


def test_a_prepared_command_is_taken_once_and_only_for_its_command() -> None:
    t = Transport()
    conn = _conn(t, PreparedCommand(_client(t), "sh -s", 5.0))
    assert take_prepared(conn.api, "docker version") is None
    assert take_prepared(conn.api, "sh -s") is t.opened[0]
    assert take_prepared(conn.api, "sh -s") is None


def test_an_unused_prepared_session_is_closed_when_discarded() -> None:
    t = Transport()
    prepared = PreparedCommand(_client(t), "sh -s", 5.0)
    prepared.discard()
    assert t.opened[0].closed
    assert t.opened[0].sent == b""


def test_the_batch_script_reads_nothing_but_its_own_stdin() -> None:
    # `sh -s` reads the script from stdin; the jobs' own stdin is /dev/null, so a job
    # cannot eat the rest of the script
    script = host_script(JOBS, "@@m", 2)
    assert script.count("</dev/null") == len(JOBS)
