"""Interrupted and concurrent runs: never interleaved, never duplicated, always recoverable."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker

from tests.integration.labtools import lab_name, nothing_left, owned_containers, write

DNETLAB = [sys.executable, "-m", "dnetlab"]


def many(name: str, n: int = 12, octet: int = 226) -> str:
    body = [f"version: 1\nname: {name}\nnetworks:\n  lan: {{subnet: 10.{octet}.0.0/24}}\n"
            "containers:"]
    body += [f"  c{i}: {{image: busybox, command: sleep infinity, "
             f"networks: {{lan: {{ipv4: 10.{octet}.0.{10 + i}}}}}}}" for i in range(n)]
    return "\n".join(body) + "\n"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DNETLAB, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


def test_two_concurrent_ups_do_not_interleave(lab_dir: Path, lab_names: list[str],
                                              docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", many(name))
    procs = [subprocess.Popen([*DNETLAB, "up", path], cwd=lab_dir, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    said = "".join(o[0] for o in outs)
    assert said.count("is up:") == 1 and said.count("is up to date") == 1
    assert "is being changed by dnetlab pid" in "".join(o[1] for o in outs)
    cs = owned_containers(docker_client, name)  # raises on a duplicated key
    assert len(cs) == 12 and all(c.status == "running" for c in cs.values())


def test_up_interrupted_at_a_random_point_converges_on_the_next_up(
        lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    rng = random.Random()
    for octet, sig in ((227, signal.SIGINT), (228, signal.SIGTERM)):
        name = lab_name()
        lab_names.append(name)
        path = write(lab_dir / f"{name}.yaml", many(name, 16, octet))
        proc = subprocess.Popen([*DNETLAB, "up", path], cwd=lab_dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 130), err
        assert "Traceback" not in err
        if proc.returncode == 130:
            assert "interrupted" in err and "run `dnetlab up` again" in err
        done = _run(["up", path], lab_dir)
        assert done.returncode == 0, done.stderr
        cs = owned_containers(docker_client, name)
        assert len(cs) == 16 and all(c.status == "running" for c in cs.values())
        assert "up to date" in _run(["up", path], lab_dir).stdout


def test_down_after_an_interrupted_up_leaves_nothing(lab_dir: Path, lab_names: list[str],
                                                     docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", many(name, 16))
    proc = subprocess.Popen([*DNETLAB, "up", path], cwd=lab_dir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(0.6)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    Path(path).unlink()  # and the file is gone too
    done = _run(["down"], lab_dir)
    assert done.returncode == 0, done.stderr
    assert nothing_left(docker_client, name)


def test_ctrl_c_while_waiting_for_the_lock_ends_the_wait_and_changes_nothing(
        lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    """Another run holds the lab's lock: one Ctrl-C (or SIGTERM) must end the wait at once,
    exit 130, say what to do, and leave the engine untouched."""
    import fcntl

    for sig in (signal.SIGINT, signal.SIGTERM):
        name = lab_name()
        lab_names.append(name)
        path = write(lab_dir / f"{name}.yaml", many(name, 2, 229))
        (lab_dir / ".dnetlab").mkdir(exist_ok=True)
        with (lab_dir / ".dnetlab" / f"{name}.lock").open("a+") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            held.write("the test")
            held.flush()
            proc = subprocess.Popen([*DNETLAB, "up", path], cwd=lab_dir, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            assert proc.stderr is not None
            first = proc.stderr.readline()  # the waiting notice: it is past loading now
            assert "is being changed by the test; waiting" in first
            sent = time.monotonic()
            proc.send_signal(sig)
            _out, rest = proc.communicate(timeout=30)
            took = time.monotonic() - sent
        assert proc.returncode == 130, first + rest
        assert took < 5, f"the wait went on {took:.1f} s after the signal"
        assert "interrupted" in rest and "run `dnetlab up` again" in rest
        assert "Traceback" not in rest
        assert owned_containers(docker_client, name) == {}
        assert docker_client.networks.list(filters={"label": f"dnetlab.scenario={name}"}) == []
