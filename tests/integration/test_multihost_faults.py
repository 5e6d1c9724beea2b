"""Faults on the test bed, in the middle of the work: a host's dockerd killed during `up`,
a host's sshd (and its sessions) gone during `verify`. Each is exit 3 naming the host,
the other hosts' work or verdicts are kept, and the next run converges once the host is
back. A worker's path to its swarm manager cut for a while during `up` is waited out.
Only test-bed engines are stopped or cut off, never the machine's own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_multihost import OVERLAY, _bed, _client, _dnetlab, _reset
from tests.integration.test_multihost import hosts as hosts  # a fixture, used by name


@pytest.fixture
def clean(hosts: list[dict[str, str]], tmp_path: Path) -> Iterator[Path]:
    _reset(hosts)
    yield tmp_path
    subprocess.run([sys.executable, "-m", "dnetlab", "down"], cwd=tmp_path,
                   capture_output=True, timeout=300, check=False)
    _reset(hosts, images=False)


def _running(h: dict[str, str], lab: str) -> set[str]:
    c = _client(h)
    try:
        return {ct["Labels"]["dnetlab.key"] for ct in c.containers(
            filters={"label": f"dnetlab.scenario={lab}"})}
    finally:
        c.close()


def test_dockerd_killed_in_the_middle_of_up_is_exit_3_and_the_next_up_converges(
        hosts: list[dict[str, str]], clean: Path) -> None:
    """The overlay lab over the three hosts; host 3's dockerd is killed (SIGKILL) as soon
    as `up` starts changing things. The run ends with exit 3 naming worker2 and its
    engine, no traceback; the other hosts' work is kept; once dockerd is back, `up`
    converges and `verify` passes."""
    _bed("load-image", "all", "busybox:latest")  # no image copy: the apply is what is cut
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "up", "--trust", OVERLAY],
                            cwd=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:  # the plain reporter: one line per event
            seen.append(line)
            if line.startswith("bringing up lab overlay"):
                _bed("stop-engine", "3", "--kill")
                break
        _out, err_rest = proc.communicate(timeout=600)
        err = "".join(seen) + err_rest
        assert "Traceback" not in err and "internal error" not in err, err
        assert proc.returncode == 3, err
        assert ("dnetlab: host 'worker2' (ssh://root@10.99.0.3): its Docker engine stopped "
                "answering during `up`") in err
        assert "[worker2]" in err and "the engine stopped answering" in err
        assert _running(hosts[0], "overlay") == {"a1", "iso"}  # the others' work is kept
        assert _running(hosts[1], "overlay") == {"b1"}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _bed("start-engine", "3")
    up = _dnetlab(clean, "up", OVERLAY)
    assert up.returncode == 0, up.stderr
    assert _running(hosts[2], "overlay") == {"c1"}
    verify = _dnetlab(clean, "verify", "--format", "json")
    report = json.loads(verify.stdout)
    assert verify.returncode == 0, [(p["name"], p["status"], p["actual"])
                                    for p in report["probes"] if p["status"] != "passed"]


VFAULT = """version: 1
name: vfault
hosts:
  one: {engine: "ssh://root@10.99.0.1"}
  two: {engine: "ssh://root@10.99.1.2"}
  three: {engine: "ssh://root@10.99.0.3"}
networks:
  lan: {subnet: 10.233.0.0/24, hosts: [one, two, three]}
containers:
  a1: {host: one, image: busybox, command: sleep infinity, networks: {lan: {ipv4: 10.233.0.11}}}
  a2: {host: one, image: busybox, command: sleep infinity, networks: {lan: {ipv4: 10.233.0.12}}}
  b1: {host: two, image: busybox, command: sleep infinity, networks: {lan: {ipv4: 10.233.0.21}}}
  b2: {host: two, image: busybox, command: sleep infinity, networks: {lan: {ipv4: 10.233.0.22}}}
  c1: {host: three, image: busybox, command: sleep infinity,
       networks: {lan: {ipv4: 10.233.0.31}}}
  c2: {host: three, image: busybox, command: sleep infinity,
       networks: {lan: {ipv4: 10.233.0.32}}}
probes:
  - {name: one-ok, type: ping, from: a1, to: a2}
  - {name: one-fails, type: ping, from: a1, to: 10.233.0.99, count: 1}
  - {name: two-ok, type: ping, from: b1, to: b2}
  - {name: three-ok, type: ping, from: c2, to: c1}
  - {name: three-slow, type: exec, on: c1, command: [sh, -c, "sleep 8; echo slow"],
     stdout_contains: slow}
"""


def _ssh_sessions(netns: str) -> list[int]:
    """The sshd processes left in a test-bed host's namespace once its listener is
    stopped: the sessions serving this test's connections (the bed is ours: the lock)."""
    pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True,
                          check=True).stdout.split()
    out = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "sshd":
                out.append(int(pid))
        except OSError:
            pass  # gone meanwhile
    return out


def _wait_for_process(h: dict[str, str], container: str, text: str, timeout: float) -> None:
    c = _client(h)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            procs = c.top(container).get("Processes") or []
            if any(text in " ".join(p) for p in procs):
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never ran in {container}")
    finally:
        c.close()


def test_sshd_lost_in_the_middle_of_verify_errors_that_host_s_probes_only(
        hosts: list[dict[str, str]], clean: Path) -> None:
    """While host 3 runs a slow probe, its sshd stops and its sessions end (as when a host
    is rebooted or its sshd is stopped with its sessions). Its probes still running are
    errors that say the connection was lost; the verdicts already in (the other hosts': a
    pass and a failure; host 3's ended probe) are kept; exit 3, and the message names the
    host."""
    _bed("load-image", "all", "busybox:latest")
    (clean / "vfault.yaml").write_text(VFAULT)
    up = _dnetlab(clean, "up", "vfault.yaml")
    assert up.returncode == 0, up.stderr
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "verify", "--trust",
                             "vfault.yaml", "--format", "json"], cwd=clean,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_process(hosts[2], "vfault-c1", "sleep 8", 60)
        _bed("stop-sshd", "3")
        sessions = _ssh_sessions("dnl-h3")
        assert sessions, "no SSH session on host 3 to cut"
        for pid in sessions:
            os.kill(pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _bed("start-sshd", "3")
    assert "Traceback" not in err and "internal error" not in err, err
    assert proc.returncode == 3, err
    by = {p["name"]: p for p in json.loads(out)["probes"]}
    # three-ok's source (c2) ran on a channel of its own to host 3's engine and had ended
    # (`exec.ATTACH_MAX`): its verdict stands
    assert {n: p["status"] for n, p in by.items()} == {
        "one-ok": "passed", "one-fails": "failed", "two-ok": "passed",
        "three-ok": "passed", "three-slow": "error"}, by
    assert "host three" in by["three-slow"]["actual"], by["three-slow"]
    assert "lost" in by["three-slow"]["actual"], by["three-slow"]
    assert "dnetlab: host 'three' (ssh://root@10.99.0.3) stopped answering: " in err
    assert "that host's probes that had not ended are errors, the other results stand" in err
    # back again: the same lab verifies as before
    again = _dnetlab(clean, "verify", "vfault.yaml", "--format", "json")
    assert again.returncode == 1, again.stderr  # one-fails fails, nothing else
    assert [p["name"] for p in json.loads(again.stdout)["probes"]
            if p["status"] != "passed"] == ["one-fails"]


def _dockerd_log(h: dict[str, str]) -> Path:
    return Path(f"/var/log/dnetlab-testbed-{h['name']}.log")  # scripts/testbed.sh's


def _manager_path(h: dict[str, str], manager: dict[str, str], action: str) -> None:
    """Insert (-I) or delete (-D) a rule in host h's namespace that drops what it sends to
    the swarm manager's port (2377): its engine's requests to the manager time out."""
    subprocess.run(["ip", "netns", "exec", f"dnl-{h['name']}", "iptables", action, "OUTPUT",
                    "-d", manager["address"], "-p", "tcp", "--dport", "2377", "-j", "DROP"],
                   check=True, capture_output=True, timeout=30)


def _await_refused_start(log: Path, offset: int, timeout: float) -> str:
    """The first line of the dockerd log past `offset` where the engine refused to start a
    container."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.open("rb") as f:
            f.seek(offset)
            for line in f.read().decode(errors="replace").splitlines():
                if "/start returned error" in line:
                    return line
        time.sleep(0.5)
    raise AssertionError(f"the engine never refused a start in {timeout:.0f} s")


def test_a_worker_whose_manager_does_not_answer_in_time_is_started_once_it_does(
        hosts: list[dict[str, str]], clean: Path) -> None:
    """Docker attaches a container to an attachable overlay through the swarm's manager.
    Worker2's path to the manager is cut while `up` brings back its stopped container
    (recreated: a worker drops an overlay no container of it uses). Docker waits 20 s
    and refuses the start ("Could not attach to network ... context deadline exceeded"),
    as it does for a manager just made and busy (CI saw that). `up` tries the start
    again; with the path back, it converges (exit 0) and the lab verifies."""
    _bed("load-image", "all", "busybox:latest")
    first = _dnetlab(clean, "up", OVERLAY)
    assert first.returncode == 0, first.stderr
    manager, worker2 = hosts[0], hosts[2]
    c = _client(worker2)
    try:
        c.stop("overlay-c1", timeout=1)
    finally:
        c.close()
    log = _dockerd_log(worker2)
    offset = log.stat().st_size
    _manager_path(worker2, manager, "-I")
    cut = True
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "up", "--trust", OVERLAY],
                            cwd=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        refused = _await_refused_start(log, offset, timeout=120)
        _manager_path(worker2, manager, "-D")
        cut = False
        out, err = proc.communicate(timeout=300)
    finally:
        if cut:
            _manager_path(worker2, manager, "-D")
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "context deadline exceeded" in refused, refused
    assert "Traceback" not in err and "internal error" not in err, err
    assert proc.returncode == 0, out + err
    assert "container overlay-c1 [worker2]" in err and "FAILED" not in err, err
    assert _running(worker2, "overlay") == {"c1"}
    verify = _dnetlab(clean, "verify", "--format", "json")
    report = json.loads(verify.stdout)
    assert verify.returncode == 0, [(p["name"], p["status"], p["actual"])
                                    for p in report["probes"] if p["status"] != "passed"]
