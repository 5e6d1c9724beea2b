"""`dnetlab exec --all | --network | --host` and `dnetlab shell` on the local engine."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

from tests.integration.labtools import lab_name, owned_containers, write
from tests.integration.ttyrun import shell_session


def _lab(name: str) -> str:
    return f"""
version: 1
name: {name}
networks:
  front: {{subnet: 10.234.1.0/24}}
  back: {{subnet: 10.234.2.0/24}}
containers:
  c1:
    image: busybox
    command: sleep infinity
    networks: {{front: {{ipv4: 10.234.1.11}}}}
  c2:
    image: busybox
    command: sleep infinity
    networks:
      front: {{ipv4: 10.234.1.12}}
      back: {{ipv4: 10.234.2.12}}
  c3:
    image: busybox
    command: sleep infinity
    networks: {{back: {{ipv4: 10.234.2.13}}}}
"""


def test_exec_fan_out_results_formats_and_errors(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str],
        docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", _lab(name)))[0] == 0

    code, out, err = run_cli("exec", "--all", "--format", "json", "--", "hostname")
    assert code == 0, err
    got = json.loads(out)
    assert [r["container"] for r in got] == ["c1", "c2", "c3"]
    assert all(r["host"] == "local" and r["exit_code"] == 0 for r in got)
    assert [r["output"].strip() for r in got] == ["c1", "c2", "c3"]

    # one command fails: every result is there, exit 1
    code, out, err = run_cli("exec", "--network", "back", "--format", "json", "--",
                             "sh", "-c", 'echo "on $(hostname)"; [ "$(hostname)" != c3 ]')
    assert code == 1
    got = {r["container"]: r for r in json.loads(out)}
    assert set(got) == {"c2", "c3"}
    assert got["c2"]["exit_code"] == 0 and got["c3"]["exit_code"] == 1
    assert got["c3"]["output"] == "on c3\n"

    # the text form: each output under a header, a summary on stderr
    code, out, err = run_cli("exec", "--network", "front", "--", "sh", "-c",
                             "echo out; echo err >&2")
    assert code == 0, err
    # stdout and stderr both, each under its container's header (their order within one
    # output is the engine's: two streams)
    first, second = out.split("=== c2 (host local): exit 0 ===\n")
    assert first.startswith("=== c1 (host local): exit 0 ===\n")
    assert sorted(first.splitlines()[1:]) == sorted(second.splitlines()) == ["err", "out"]
    assert "2 container(s), 0 failed" in err

    code, out, _ = run_cli("exec", "--host", "local", "--format", "json", "--", "true")
    assert code == 0 and len(json.loads(out)) == 3

    # a stopped container is a result that could not run, the others still run
    owned_containers(docker_client, name)["c1"].stop(timeout=0)
    code, out, _ = run_cli("exec", "--all", "--format", "json", "--", "true")
    got = {r["container"]: r for r in json.loads(out)}
    assert code == 1 and got["c1"]["exit_code"] is None
    assert "is exited" in got["c1"]["output"] and got["c2"]["exit_code"] == 0
    owned_containers(docker_client, name)["c1"].start()

    # bad targets: exit 2, naming what exists; no traceback
    for args, says in [
        (("--network", "nope"), "no network 'nope' in lab"),
        (("--host", "h9"), "no host 'h9' in lab"),
        (("--format", "json", "c9"), "no container 'c9' in lab"),
    ]:
        code, _, err = run_cli("exec", *args, "--", "true")
        assert code == 2, err
        assert says in err and "Traceback" not in err
    code, _, err = run_cli("exec", "--network", "nope", "--", "true")
    assert "(networks: front, back)" in err
    code, _, err = run_cli("exec", "--host", "h9", "--", "true")
    assert "(hosts: local)" in err
    code, _, err = run_cli("exec", "--all", "--host", "local", "--", "true")
    assert code == 2 and "choose one" in err
    code, _, err = run_cli("exec", "--all")
    assert code == 2 and "no command given" in err

    # the single-container form is as it was: raw output, the command's exit code
    code, out, _ = run_cli("exec", "c2", "--", "ip", "-4", "-o", "addr")
    assert code == 0 and "10.234.2.12/24" in out and "===" not in out
    assert run_cli("exec", "c1", "--", "sh", "-c", "exit 7")[0] == 7
    assert run_cli("exec", "c1", "echo", "--all") == (0, "--all\n", "")  # not our --all


def test_exec_fan_out_ctrl_c_leaves_nothing(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str],
        docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", _lab(name)))[0] == 0
    before = {c.id for c in docker_client.containers.list(all=True)}
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "exec", "--all", "--",
                             "sleep", "4"], cwd=lab_dir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(3.0)  # the commands already started end on their own
    assert {c.id for c in docker_client.containers.list(all=True)} == before
    for c in owned_containers(docker_client, name).values():
        ps = c.exec_run(["ps", "-o", "args"]).output.decode()
        assert "sleep 4" not in ps, ps


def test_shell_on_a_pty(run_cli, lab_dir: Path, lab_names: list[str]) -> None:  # type: ignore[no-untyped-def]
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", _lab(name)))[0] == 0
    status, seen = shell_session(lab_dir, "c2")
    assert b"hello-2" in seen
    assert status == 3, seen
    code, _, err = run_cli("shell", "c9")
    assert code == 2 and "no container 'c9' in lab" in err and "(containers: c1, c2, c3)" in err
