"""`dnetlab exec --all|--host` and `dnetlab shell` across the test bed's three SSH hosts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.labtools import write
from tests.integration.test_multihost import _dnetlab, clean  # noqa: F401 (fixture)
from tests.integration.test_multihost import hosts as hosts  # a fixture, used by name
from tests.integration.ttyrun import shell_session

KEYS = {"one": ["a1", "a2", "a3"], "two": ["b1", "b2", "b3"], "three": ["c1", "c2", "c3"]}


def _lab(addresses: list[str]) -> str:
    lines = ["version: 1", "name: mh-exec", "hosts:"]
    lines += [f"  {h}: {{engine: 'ssh://root@{a}'}}" for h, a in zip(KEYS, addresses,
                                                                      strict=True)]
    lines += ["networks:", "  lan: {subnet: 10.234.8.0/24, hosts: [one, two, three]}",
              "containers:"]
    for n, (h, keys) in enumerate(KEYS.items()):
        lines += [f"  {k}: {{host: {h}, image: busybox, command: sleep infinity, "
                  f"networks: {{lan: {{ipv4: 10.234.8.{10 * (n + 1) + j}}}}}}}"
                  for j, k in enumerate(keys)]
    return "\n".join(lines) + "\n"


def test_exec_fan_out_and_shell_over_ssh(hosts: list[dict[str, str]], clean: Path,  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    lab = write(clean / "lab.yaml", _lab([h["address"] for h in hosts]))
    up = _dnetlab(clean, "up", lab)
    assert up.returncode == 0, up.stderr

    res = _dnetlab(clean, "exec", "--all", "--format", "json", "--", "hostname")
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [(r["container"], r["host"]) for r in got] == [
        (k, h) for h, keys in KEYS.items() for k in keys]
    assert all(r["exit_code"] == 0 and r["output"] == f"{r['container']}\n" for r in got)

    res = _dnetlab(clean, "exec", "--host", "two", "--format", "json", "--",
                   "sh", "-c", "echo said; exit 3")
    assert res.returncode == 1, res.stderr
    got = json.loads(res.stdout)
    assert [r["container"] for r in got] == KEYS["two"]
    assert all(r["exit_code"] == 3 and r["output"] == "said\n" for r in got)

    res = _dnetlab(clean, "exec", "--host", "four", "--", "true")
    assert res.returncode == 2 and "(hosts: one, two, three)" in res.stderr
    assert "Traceback" not in res.stderr

    # in process: the execs (3 a host, fewer than exec.ATTACH_MAX) and the engine's
    # requests go on channels to each host's engine socket: no command runs on a host but
    # the one asking where that socket is (no `docker exec`, no `docker system dial-stdio`)
    import paramiko

    from dnetlab.engine import ssh, sshtransport
    from dnetlab.lab import records
    from dnetlab.lab.deployed import scenario_from_record
    from dnetlab.lab.fanout import fan_out, select

    commands: list[str] = []
    original = paramiko.Channel.exec_command

    def counted(chan: Any, command: str) -> Any:
        commands.append(command)
        return original(chan, command)

    opened: list[str] = []
    open_streamlocal = sshtransport.StreamLocalTransport.open_streamlocal

    def counted_socket(transport: Any, path: str, timeout: float | None = None) -> Any:
        opened.append(path)
        return open_streamlocal(transport, path, timeout)

    monkeypatch.setattr(paramiko.Channel, "exec_command", counted)
    monkeypatch.setattr(sshtransport.StreamLocalTransport, "open_streamlocal", counted_socket)
    sc = scenario_from_record(records.load("mh-exec", clean))
    run = fan_out(sc, select(sc, all_=True), ["sh", "-c", "echo $((6 * 7))"],
                  record_root=clean)
    assert [(r.exit_code, r.output) for r in run.results] == [(0, "42\n")] * 9
    assert commands == [ssh.SOCKET_QUERY] * 3, commands
    assert set(opened) == {h["socket"] for h in hosts} and len(opened) >= 3 + 9

    # one exec of a command (no `sh -c`): attached, on a channel of its own to the
    # engine's socket, its bytes intact, its stderr and exit status too
    from dnetlab.engine.engine import Engine
    from dnetlab.model import Host

    engine = Engine.open(Host("one", f"ssh://root@{hosts[0]['address']}"))
    try:
        opened.clear()
        cid = next(c["Id"] for c in engine.conn.api.containers()
                   if c["Labels"].get("dnetlab.key") == "a1")
        opened.clear()
        got = engine.exec(cid, ["sh", "-e", "-c", "printf 'x\\0y\\n'; seq 1 30000; "
                                "echo oops >&2; exit 5"])
        assert got.exit_code == 5
        # stdout and stderr are two pipes that Docker reads apart: under load the stderr
        # line can come before stdout's last chunk, but every byte of each is there
        assert got.output.count("oops\n") == 1, got.output[-200:]
        assert got.output.replace("oops\n", "", 1) == "x\0y\n" + "".join(
            f"{i}\n" for i in range(1, 30001))
        assert opened == [hosts[0]["socket"]]  # its own; the requests, the pool's one
        bad = engine.exec(cid, ["no-such-program"])
        assert bad.exit_code != 0 and "no-such-program" in bad.output, bad
    finally:
        engine.close()

    # a host that gives no channel to its engine's socket: each host gets ONE SSH command
    # for all its containers, and every request a `docker system dial-stdio`
    commands.clear()
    monkeypatch.setattr(sshtransport, "engine_socket", lambda reply: None)
    run = fan_out(sc, select(sc, all_=True), ["true"], record_root=clean)
    assert [r.exit_code for r in run.results] == [0] * 9
    assert commands.count("sh -s") == 3, commands
    assert "docker system dial-stdio" in commands

    # one whose sshd cannot connect the socket it named: the SDK's channels, at once
    commands.clear()
    monkeypatch.setattr(sshtransport, "engine_socket", lambda reply: "/nonexistent.sock")
    run = fan_out(sc, select(sc, all_=True), ["true"], record_root=clean)
    assert [r.exit_code for r in run.results] == [0] * 9
    assert commands.count("sh -s") == 3 and "docker system dial-stdio" in commands

    # an interactive shell on a remote container, through a pseudo-terminal
    status, seen = shell_session(clean, "b2")
    assert b"hello-2" in seen
    assert status == 3, seen
