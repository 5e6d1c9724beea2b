"""Steps on the real engine, one host: each action changes the live lab as it says, the
probes after it see the change, `recovered_after_s` measures a known outage, the lab is
brought back to its declared state afterwards (also after a failure and after Ctrl-C),
`--keep-state` leaves it changed, and `dnetlab test` always takes the lab down."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from tests.integration.labtools import address, ids, lab_name, nothing_left, owned_containers
from tests.integration.labtools import write as write_file

DNETLAB = [sys.executable, "-m", "dnetlab"]
WARMUP_S = 2  # c2's port 80 opens this long after every start: a known outage


def _lab(name: str, steps: str, probes: str = "") -> str:
    return f"""
version: 1
name: {name}
networks:
  lan: {{subnet: 10.241.0.0/24}}
  side: {{subnet: 10.241.1.0/24}}
containers:
  c1:
    image: busybox
    command: sleep infinity
    networks: {{lan: {{ipv4: 10.241.0.10}}}}
  c2:
    image: busybox
    command: ["sh", "-c", "sleep {WARMUP_S}; exec httpd -f -p 80 -h /"]
    networks: {{lan: {{ipv4: 10.241.0.20}}}}
probes:
  - {{type: ping, from: c1, to: c2, count: 1}}
  - {{type: tcp, from: c1, to: c2, port: 80, within: 10}}
{probes}
steps:
{steps}
"""


ALL_ACTIONS = """
  - name: c2 leaves lan
    do: [{disconnect: {container: c2, network: lan}}]
    probes: [{use: "ping c1 -> c2", expect: unreachable}]
  - name: c2 comes back with its address
    within: 10
    do: [{connect: {container: c2, network: lan, ipv4: 10.241.0.20}}]
    probes: [{use: "ping c1 -> c2"}]
  - name: c2 paused
    do: [{pause: c2}]
    probes: [{use: "tcp c1 -> c2:80", expect: closed, within: 0}]
  - name: c2 unpaused
    within: 10
    do: [{unpause: c2}]
    probes: [{use: "tcp c1 -> c2:80"}]
  - name: c2 stopped
    do: [{stop: c2}]
    probes: [{use: "tcp c1 -> c2:80", expect: closed, within: 0}]
  - name: c2 started
    within: 10
    do: [{start: c2}]
    probes: [{use: "tcp c1 -> c2:80"}]
  - name: c2 restarted
    within: 10
    do: [{restart: c2}]
    probes: [{use: "tcp c1 -> c2:80"}]
  - name: c2 killed
    do: [{kill: c2}]
    probes: [{use: "tcp c1 -> c2:80", expect: closed, within: 0}]
  - name: c2 started after the kill
    within: 10
    do: [{start: c2}]
    probes: [{use: "tcp c1 -> c2:80"}]
  - name: c2's link drops everything
    do: [{impair: {container: c2, network: lan, loss: 100}}]
    probes: [{use: "ping c1 -> c2", expect: unreachable}]
  - name: c2's link healed
    within: 10
    do: [{heal: {container: c2, network: lan}}]
    probes: [{use: "ping c1 -> c2"}]
"""


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DNETLAB, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture
def lab(lab_dir: Path, lab_names: list[str]):  # type: ignore[no-untyped-def]
    def make(steps: str, probes: str = "") -> tuple[str, str]:
        name = lab_name("stp")
        lab_names.append(name)
        path = write_file(lab_dir / f"{name}.yaml", _lab(name, steps, probes))
        up = _run(lab_dir, "up", path)
        assert up.returncode == 0, up.stderr
        return name, path

    return make


def _up_to_date(cwd: Path, path: str) -> bool:
    plan = _run(cwd, "plan", path)
    assert plan.returncode == 0, plan.stderr
    return "is up to date" in plan.stdout


def test_every_action_and_the_restore(lab, lab_dir: Path,  # type: ignore[no-untyped-def]
                                      docker_client: docker.DockerClient) -> None:
    name, path = lab(ALL_ACTIONS)
    before = ids(docker_client, name)
    run = _run(lab_dir, "verify", "--steps", "--format", "json")
    report = json.loads(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    steps = {s["name"]: s for s in report["steps"]}
    assert len(steps) == 11 and all(s["status"] == "passed" for s in steps.values())
    assert all(a["status"] == "done" for s in steps.values() for a in s["actions"])
    # a service that opens WARMUP_S after a start: the figure is that outage, to 0.5 s
    for step in ("c2 started", "c2 restarted", "c2 started after the kill"):
        [probe] = steps[step]["probes"]
        rec = probe["recovered_after_s"]
        print(f"\n{step}: recovered after {rec} s ({probe['attempts']} tries)")
        assert rec is not None and WARMUP_S - 0.5 <= rec <= WARMUP_S + 1.0, probe
    # the lab is as declared again: same containers, same address, nothing to repair
    assert report["restored"].startswith(("restored to its declared state",
                                          "already in its declared state"))
    assert ids(docker_client, name) == before
    c2 = owned_containers(docker_client, name)["c2"]
    assert address(c2, f"{name}-lan") == "10.241.0.20"
    assert c2.status == "running"
    assert _up_to_date(lab_dir, path)


def test_a_step_that_does_not_hold_fails_and_the_lab_is_restored(
        lab, lab_dir: Path, docker_client: docker.DockerClient) -> None:  # type: ignore[no-untyped-def]
    name, path = lab("""
  - name: paused c2 still answers (it does not)
    do: [{pause: c2}]
    probes: [{use: "tcp c1 -> c2:80", within: 1}]
  - name: c2 leaves lan
    do: [{disconnect: {container: c2, network: lan}}]
""")
    run = _run(lab_dir, "verify", "--steps", "--format", "junit")
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'name="' + name + ' / step 1: paused c2 still answers (it does not)"' in run.stdout
    assert "<failure" in run.stdout
    c2 = owned_containers(docker_client, name)["c2"]
    assert c2.status == "running" and address(c2, f"{name}-lan") == "10.241.0.20"
    assert _up_to_date(lab_dir, path)


def test_an_action_that_fails_stops_the_steps(lab, lab_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # validation cannot know that c2 runs no `nosuch` binary: the exec fails live
    _name, path = lab("""
  - name: broken
    do: [{exec: {on: c2, command: nosuch-command}}, {pause: c2}]
  - name: later
    do: [{stop: c2}]
""")
    run = _run(lab_dir, "verify", "--steps", "--format", "json")
    assert run.returncode == 1, run.stdout + run.stderr
    steps = json.loads(run.stdout)["steps"]
    assert [a["status"] for a in steps[0]["actions"]] == ["failed", "not run"]
    assert "nosuch-command" in steps[0]["actions"][0]["message"]
    assert steps[1]["actions"][0]["status"] == "not run"
    assert _up_to_date(lab_dir, path)


def test_keep_state_leaves_the_change_and_up_repairs_it(
        lab, lab_dir: Path, docker_client: docker.DockerClient) -> None:  # type: ignore[no-untyped-def]
    name, path = lab("""
  - name: c2 leaves lan
    do: [{disconnect: {container: c2, network: lan}}]
""")
    run = _run(lab_dir, "verify", "--steps", "--keep-state")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "kept as the steps left it" in run.stdout
    c2 = owned_containers(docker_client, name)["c2"]
    assert address(c2, f"{name}-lan") is None
    assert not _up_to_date(lab_dir, path)
    assert _run(lab_dir, "up", path).returncode == 0
    assert address(c2, f"{name}-lan") == "10.241.0.20"


def test_ctrl_c_during_the_steps_still_restores(
        lab, lab_dir: Path, docker_client: docker.DockerClient) -> None:  # type: ignore[no-untyped-def]
    name, path = lab("""
  - name: c2 leaves lan, then a long wait
    do: [{disconnect: {container: c2, network: lan}}, {sleep: 60}]
""")
    proc = subprocess.Popen([*DNETLAB, "verify", "--steps"], cwd=lab_dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c2 = owned_containers(docker_client, name)["c2"]
    deadline = time.monotonic() + 60
    while address(c2, f"{name}-lan") is not None:
        assert time.monotonic() < deadline, "the step never disconnected c2"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert address(c2, f"{name}-lan") == "10.241.0.20", err
    assert _up_to_date(lab_dir, path)


def test_dnetlab_test_takes_the_lab_down_whatever_the_verdict(
        lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    good = """
  - name: c2 leaves lan
    do: [{disconnect: {container: c2, network: lan}}]
    probes: [{use: "ping c1 -> c2", expect: unreachable}]
"""
    bad = """
  - name: c2 leaves lan, yet is reached (it is not)
    do: [{disconnect: {container: c2, network: lan}}]
    probes: [{use: "ping c1 -> c2"}]
"""
    for steps, code in ((good, 0), (bad, 1)):
        name = lab_name("tst")
        lab_names.append(name)
        path = write_file(lab_dir / f"{name}.yaml", _lab(name, steps))
        run = _run(lab_dir, "test", path)
        assert run.returncode == code, run.stdout + run.stderr
        assert "step 1: c2 leaves lan" in run.stdout
        assert f"lab {name} is down" in run.stderr
        assert nothing_left(docker_client, name)
        assert _run(lab_dir, "ls").stdout.count(name) == 0


def test_the_isolation_seed_joins_and_leaves_the_second_network(
        tmp_path: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    lab_names.append("isolation")
    seed = Path(__file__).resolve().parents[2] / "scenarios" / "isolation.yaml"
    run = _run(tmp_path, "test", "--format", "json", str(seed))
    report = json.loads(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    assert [s["name"] for s in report["steps"]] == [
        "c1 joins net2 and reaches both sides", "c1 leaves net2 and is isolated again"]
    assert all(p["status"] == "passed" for s in report["steps"] for p in s["probes"])
    assert len(report["steps"][0]["probes"]) == 4
    assert nothing_left(docker_client, "isolation")


def test_a_delay_step_is_refused_before_any_step_runs(
        lab, lab_dir: Path, docker_client: docker.DockerClient) -> None:  # type: ignore[no-untyped-def]
    # this kernel has no sch_netem (docs/impairments.md): the step cannot run, and the
    # disconnect before it must not happen either
    name, _path = lab("""
  - name: c2 leaves lan
    do: [{disconnect: {container: c2, network: lan}}]
  - name: c1's link gets slow
    do: [{impair: {container: c1, network: lan, delay: 50}}]
""")
    run = _run(lab_dir, "verify", "--steps")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "sch_netem" in run.stderr and "local" in run.stderr, run.stderr
    c2 = owned_containers(docker_client, name)["c2"]
    assert address(c2, f"{name}-lan") == "10.241.0.20"


def test_test_refuses_a_file_whose_asks_are_not_approved(
        lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name("ask")
    lab_names.append(name)
    path = write_file(lab_dir / f"{name}.yaml", _lab(name, """
  - name: look at the host
    do: [{exec: {on: "host:local", command: "ip route"}}]
"""))
    run = _run(lab_dir, "test", path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "test refused" in run.stderr and "host local" in run.stderr, run.stderr
    assert nothing_left(docker_client, name)
    run = _run(lab_dir, "test", "--trust", path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert nothing_left(docker_client, name)
