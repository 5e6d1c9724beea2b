"""exec_many over SSH tells a lost host (exit 3, the environment's failure) from a
container docker could not run a shell in (the container's)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import paramiko

from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError, EngineUnreachable
from dnetlab.engine.exec import exec_many
from dnetlab.engine.hostexec import Job, host_script, new_mark
from dnetlab.errors import ExitCode
from dnetlab.model import Host
from tests.unit.engine.fakechannel import FakeChannel


class Channel(FakeChannel):
    def __init__(self, reply: bytes, transport: Transport) -> None:
        super().__init__()
        self.reply, self.transport = reply, transport

    def recv_exit_status(self) -> int:
        return -1 if self.transport.cut else 0


class Transport:
    def __init__(self, reply: bytes = b"", cut: bool = False, fail: bool = False) -> None:
        self.reply, self.cut, self.fail = reply, cut, fail

    def open_session(self, timeout: float) -> Channel:
        if self.fail:
            raise paramiko.SSHException("SSH session not active")
        return Channel(self.reply, self)

    def is_active(self) -> bool:
        return not self.cut


def _conn(transport: Transport) -> Connection:
    client = SimpleNamespace(get_transport=lambda: transport)
    api: Any = SimpleNamespace(_custom_adapter=SimpleNamespace(ssh_client=client),
                               api_version="1.41")
    return Connection(Host("h3", "ssh://root@10.99.0.3"), api, "ssh://root@10.99.0.3")


JOBS = [Job("c1", "true"), Job("c2", "true")]


def test_a_session_that_cannot_be_opened_is_a_lost_host() -> None:
    out = exec_many(_conn(Transport(fail=True)), JOBS, 2)
    assert all(isinstance(r, EngineUnreachable) for r in out)
    assert all(r.exit_code == ExitCode.ENVIRONMENT for r in out if isinstance(r, EngineError))
    assert "the SSH connection was lost (SSHException: SSH session not active)" in str(out[0])


def test_a_reply_cut_short_by_a_dead_connection_is_a_lost_host() -> None:
    out = exec_many(_conn(Transport(b"", cut=True)), JOBS, 2)
    assert [type(r) for r in out] == [EngineUnreachable, EngineUnreachable]
    assert str(out[0]).endswith("the SSH connection was lost before the host replied")


def test_a_garbled_reply_on_a_live_connection_stays_an_engine_error() -> None:
    out = exec_many(_conn(Transport(b"garbage\n")), JOBS, 2)
    assert [type(r) for r in out] == [EngineError, EngineError]


def test_docker_without_its_daemon_is_a_lost_host_and_a_missing_shell_is_not(
        monkeypatch: Any) -> None:
    mark = new_mark()
    monkeypatch.setattr("dnetlab.engine.hostexec.new_mark", lambda: mark)
    said = [b"Cannot connect to the Docker daemon at unix:///x.sock. Is the docker daemon "
            b"running?\n", b'OCI runtime exec failed: exec: "sh": executable file not found\n']
    reply = b"".join(f"{mark} {i} 126 0 {len(e)}\n".encode() + e for i, e in enumerate(said))
    assert host_script(JOBS, mark, 2)  # the script the host would have run
    out = exec_many(_conn(Transport(reply)), JOBS, 2)
    assert [type(r) for r in out] == [EngineUnreachable, EngineError]
