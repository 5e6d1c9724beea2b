"""Multi-host labs on the project's test bed: three hosts in network namespaces, each
with its own engine and sshd, reached over ssh:// (make testbed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
OVERLAY = str(ROOT / "scenarios" / "overlay.yaml")
TESTBED = ROOT / "scripts" / "testbed.sh"


def _bed(*args: str) -> None:
    subprocess.run(["bash", str(TESTBED), *args], check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def hosts() -> list[dict[str, str]]:
    _bed("up", "3")  # idempotent; quick when the bed is already healthy
    return list(json.loads((ROOT / ".testbed" / "hosts.json").read_text())["hosts"])


def _client(h: dict[str, str]) -> docker.APIClient:
    return docker.APIClient(base_url=f"unix://{h['socket']}", version="auto", timeout=60)


def _reset(hosts: list[dict[str, str]], *, images: bool = True) -> None:
    """No lab objects, no swarm, and (by default) no busybox on any test host."""
    for h in hosts:
        c = _client(h)
        try:
            for ct in c.containers(all=True):
                c.remove_container(ct["Id"], force=True)
            with suppress(docker.errors.APIError):
                c.leave_swarm(force=True)
            for n in c.networks(filters={"label": "dnetlab.scenario"}):
                with suppress(docker.errors.APIError):
                    c.remove_network(n["Id"])
            if images:
                for img in c.images():
                    with suppress(docker.errors.APIError):
                        c.remove_image(img["Id"], force=True)
        finally:
            c.close()


@pytest.fixture
def clean(hosts: list[dict[str, str]], tmp_path: Path) -> Iterator[Path]:
    _reset(hosts)
    yield tmp_path
    subprocess.run([sys.executable, "-m", "dnetlab", "down"], cwd=tmp_path,
                   capture_output=True, timeout=300, check=False)
    _reset(hosts, images=False)


def _dnetlab(cwd: Path, *args: str, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dnetlab", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def _swarm_state(h: dict[str, str]) -> str:
    c = _client(h)
    try:
        return str(c.info()["Swarm"]["LocalNodeState"])
    finally:
        c.close()


def _labelled(h: dict[str, str]) -> int:
    c = _client(h)
    try:
        flt = {"label": "dnetlab.scenario=overlay"}
        return len(c.containers(all=True, filters=flt)) + len(c.networks(filters=flt))
    finally:
        c.close()


def test_overlay_lab_up_verify_status_down(hosts: list[dict[str, str]], clean: Path) -> None:
    for h in hosts:  # no host has the image: dnetlab must bring it there
        c = _client(h)
        assert not c.images(name="busybox")
        c.close()
    up = _dnetlab(clean, "up", OVERLAY)
    assert up.returncode == 0, up.stderr
    assert "copying image busybox" in up.stderr
    for h in hosts:
        c = _client(h)
        assert c.images(name="busybox"), f"{h['name']} did not receive busybox"
        assert c.info()["Swarm"]["LocalNodeState"] == "active"
        c.close()
    verify = _dnetlab(clean, "verify", "--format", "json")
    rep = json.loads(verify.stdout)
    bad = [p for p in rep["probes"] if p["status"] != "passed"]
    assert verify.returncode == 0 and not bad, bad
    status = json.loads(_dnetlab(clean, "status", "--format", "json").stdout)
    assert status["up_to_date"] is True
    assert {c["host"] for c in status["containers"] if c["state"] == "running"} == {
        "manager", "worker1", "worker2"}
    again = _dnetlab(clean, "up", OVERLAY)
    assert again.returncode == 0 and "is up to date" in again.stdout, again.stderr
    down = _dnetlab(clean, "down")
    assert down.returncode == 0, down.stderr
    for h in hosts:
        assert _labelled(h) == 0
        assert _swarm_state(h) == "inactive"
        c = _client(h)
        try:  # the host is as it was: not even the swarm's gateway bridge is left
            assert {n["Name"] for n in c.networks()} == {"bridge", "host", "none"}
        finally:
            c.close()


def test_container_removed_on_a_worker_is_restored(hosts: list[dict[str, str]],
                                                  clean: Path) -> None:
    assert _dnetlab(clean, "up", OVERLAY).returncode == 0
    w1 = _client(hosts[1])
    try:
        before = w1.containers(filters={"name": "overlay-b1"})[0]["Id"]
        w1.remove_container(before, force=True)
        up = _dnetlab(clean, "up", OVERLAY)
        assert up.returncode == 0, up.stderr
        assert "create container overlay-b1 [worker1]: not found" in up.stderr
        after = w1.inspect_container("overlay-b1")
        assert after["Id"] != before
        addr = after["NetworkSettings"]["Networks"]["overlay-ovl"]["IPAddress"]
        assert addr == "10.203.0.11"
    finally:
        w1.close()
    rep = json.loads(_dnetlab(clean, "verify", "--format", "json", "--probe",
                              "ping a1 -> b1").stdout)
    assert rep["probes"][0]["status"] == "passed"


def test_pre_existing_swarm_stops_up_and_down_leaves_it(hosts: list[dict[str, str]],
                                                        clean: Path) -> None:
    h2 = _client(hosts[1])
    try:
        h2.init_swarm(advertise_addr=hosts[1]["address"])
        up = _dnetlab(clean, "up", OVERLAY)
        assert up.returncode == 3
        assert "host worker1 is already in a swarm" in up.stderr
        assert "nothing was changed" in up.stderr
        for h in hosts:
            assert _labelled(h) == 0
        assert _swarm_state(hosts[0]) == "inactive"  # no swarm was started
        down = _dnetlab(clean, "down", OVERLAY)
        assert down.returncode == 0, down.stderr
        assert h2.info()["Swarm"]["LocalNodeState"] == "active"  # untouched
    finally:
        with suppress(docker.errors.APIError):
            h2.leave_swarm(force=True)
        h2.close()


def test_unknown_host_key_is_exit_3(hosts: list[dict[str, str]], clean: Path) -> None:
    home = clean / "home"
    (home / ".ssh").mkdir(parents=True)
    for key in ("id_ed25519", "id_ed25519.pub"):
        shutil.copy(Path.home() / ".ssh" / key, home / ".ssh" / key)
    (home / ".ssh" / "known_hosts").write_text("")
    env = {**os.environ, "HOME": str(home)}
    up = _dnetlab(clean, "up", OVERLAY, env=env)
    assert up.returncode == 3
    assert "SSH host key is unknown" in up.stderr and "ssh-keyscan" in up.stderr
    assert "host 'manager'" in up.stderr
    for h in hosts:
        assert _labelled(h) == 0


def test_stopped_sshd_and_stopped_engine_are_exit_3(hosts: list[dict[str, str]],
                                                    clean: Path) -> None:
    _bed("stop-sshd", "2")
    try:
        up = _dnetlab(clean, "up", OVERLAY)
        assert up.returncode == 3
        assert "host 'worker1'" in up.stderr and "cannot open an SSH connection" in up.stderr
    finally:
        _bed("start-sshd", "2")
    _bed("stop-engine", "3")
    try:
        up = _dnetlab(clean, "up", OVERLAY)
        assert up.returncode == 3
        assert "host 'worker2'" in up.stderr and "did not answer" in up.stderr
    finally:
        _bed("start-engine", "3")
    for h in hosts:
        assert _labelled(h) == 0


def test_host_lost_in_the_middle_of_up_then_converges(hosts: list[dict[str, str]],
                                                     clean: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "up", OVERLAY], cwd=clean,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    _bed("stop-sshd", "3")
    try:
        _out, err = proc.communicate(timeout=600)
        assert "Traceback" not in err
        if proc.returncode != 0:  # it may have finished worker2's part already
            assert proc.returncode in (1, 3)
            assert "worker2" in err
    finally:
        _bed("start-sshd", "3")
    up = _dnetlab(clean, "up", OVERLAY)
    assert up.returncode == 0, up.stderr
    rep = json.loads(_dnetlab(clean, "verify", "--format", "json").stdout)
    assert all(p["status"] == "passed" for p in rep["probes"]), rep


