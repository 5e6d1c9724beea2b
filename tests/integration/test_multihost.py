"""Multi-host labs on the project's test bed: three hosts in network namespaces, each
with its own engine and sshd, reached over ssh:// (make testbed)."""

from __future__ import annotations

import json
import os
import re
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
    _bed("up", "3", "--at-least")  # idempotent; quick when a bed of 3 or more is up
    # the first three: the labs here use three hosts (a larger bed's others stay as they are)
    return list(json.loads((ROOT / ".testbed" / "hosts.json").read_text())["hosts"])[:3]


def _client(h: dict[str, str]) -> docker.APIClient:
    return docker.APIClient(base_url=f"unix://{h['socket']}", version="auto", timeout=60)


def _reset(hosts: list[dict[str, str]], *, images: bool = True) -> None:
    """No lab objects, no swarm, no swarm gateway bridge, and (by default) no busybox on
    any test host: each test starts from a host as a user would have it."""
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
            if _gossip_kept(h) or not _remove_gwbridge(c):
                # Docker 20.10 can keep a dead endpoint on docker_gwbridge after a swarm
                # is left under churn ("has active endpoints" with no container on it),
                # or keep the left swarm's gossip on port 7946 (then the next swarm's
                # overlays reach no other host; docs/multihost.md): only a restart of
                # that engine lets either go
                _bed("stop-engine", h["name"][1:])
                _bed("start-engine", h["name"][1:])
                c.close()
                c = _client(h)
                assert _remove_gwbridge(c), f"{h['name']}: docker_gwbridge stays"
            if images:
                for img in c.images():
                    with suppress(docker.errors.APIError):
                        c.remove_image(img["Id"], force=True)
        finally:
            c.close()


def _gossip_port_bound(h: dict[str, str]) -> bool:
    """Something in the host's namespace listens on the swarm's gossip port 7946."""
    ss = subprocess.run(["nsenter", f"--net=/run/netns/dnl-{h['name']}", "ss", "-Htuln",
                         "sport = :7946"], capture_output=True, text=True, check=True)
    return bool(ss.stdout.strip())


def _gossip_kept(h: dict[str, str]) -> bool:
    """True when the host, in no swarm, still has swarm gossip on port 7946 after a moment:
    Docker 20.10 keeps it when leaving timed out ('Could not close DB: timeout waiting for
    leave broadcast' in the host's dockerd log)."""
    for _ in range(30):
        if not _gossip_port_bound(h):
            return False
        time.sleep(0.1)
    return True


def _remove_gwbridge(c: docker.APIClient) -> bool:
    """True once the host has no docker_gwbridge (a left swarm's endpoint may linger a
    moment)."""
    for _ in range(30):
        try:
            c.remove_network("docker_gwbridge")
            return True
        except docker.errors.NotFound:
            return True
        except docker.errors.APIError:
            time.sleep(0.1)
    return False


@pytest.fixture
def clean(hosts: list[dict[str, str]], tmp_path: Path) -> Iterator[Path]:
    _reset(hosts)
    yield tmp_path
    subprocess.run([sys.executable, "-m", "dnetlab", "down"], cwd=tmp_path,
                   capture_output=True, timeout=300, check=False)
    _reset(hosts, images=False)


def _dnetlab(cwd: Path, *args: str, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    if args and args[0] in ("up", "verify"):
        # these labs name remote engines and copy images: asks the tests approve per run
        args = (args[0], "--trust", *args[1:])
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


def test_refused_login_and_a_host_without_the_docker_cli_are_exit_3(
        hosts: list[dict[str, str]], clean: Path) -> None:
    """A key the host does not accept; then a host whose SSH sessions find no `docker`
    (a second sshd of h3, on port 2222, whose sessions get PATH=/nonexistent): each is
    exit 3 naming the host and the fix, and nothing is made anywhere."""
    h3 = hosts[2]
    home = clean / "home"
    (home / ".ssh").mkdir(parents=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(home / ".ssh" / "id_ed25519")], check=True)
    shutil.copy(Path.home() / ".ssh" / "known_hosts", home / ".ssh" / "known_hosts")
    up = _dnetlab(clean, "up", OVERLAY, env={**os.environ, "HOME": str(home)})
    assert up.returncode == 3, up.stderr
    assert "SSH login was refused" in up.stderr and "host 'manager'" in up.stderr

    ssh_dir = Path("/var/lib/dnetlab-testbed") / h3["name"] / "ssh"
    config = (ssh_dir / "sshd_config").read_text()
    config = config.replace("\nPort 22\n", "\nPort 2222\n")
    config = re.sub(r"(?m)^PidFile .*$", f"PidFile {clean / 'sshd.pid'}", config)
    config = re.sub(r"(?m)^(SetEnv .*)$", r"\1 PATH=/nonexistent", config)
    assert "Port 2222" in config and "PATH=/nonexistent" in config
    (clean / "sshd_config").write_text(config)
    for key in ("id_ed25519", "id_ed25519.pub"):
        shutil.copy(Path.home() / ".ssh" / key, home / ".ssh" / key)
    host_key = (ssh_dir / "ssh_host_ed25519_key.pub").read_text().split()[:2]
    (home / ".ssh" / "known_hosts").write_text(f"[{h3['address']}]:2222 {' '.join(host_key)}\n")
    scenario = clean / "nocli.yaml"
    scenario.write_text(f"""version: 1
name: nocli
hosts:
  far: {{engine: 'ssh://root@{h3['address']}:2222'}}
networks:
  lan: {{subnet: 10.230.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: [lan]}}
""")
    subprocess.run(["nsenter", f"--net=/run/netns/dnl-{h3['name']}", "/usr/sbin/sshd", "-f",
                    str(clean / "sshd_config"), "-E", str(clean / "sshd.log")], check=True)
    try:
        for _ in range(50):  # until it listens
            if subprocess.run(["ssh-keyscan", "-T", "1", "-p", "2222", h3["address"]],
                              capture_output=True, check=False).stdout:
                break
            time.sleep(0.1)
        up = _dnetlab(clean, "up", str(scenario), env={**os.environ, "HOME": str(home)})
    finally:
        pid = int((clean / "sshd.pid").read_text())
        os.kill(pid, 15)
    assert up.returncode == 3, up.stderr
    assert "host 'far'" in up.stderr and "no `docker` command on the host" in up.stderr
    assert "docker: command not found" in up.stderr and "install the Docker CLI" in up.stderr
    assert "Traceback" not in up.stderr
    for h in hosts:
        c = _client(h)
        try:
            assert c.containers(all=True) == [] and c.networks(
                filters={"label": "dnetlab.scenario"}) == []
        finally:
            c.close()


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
        # in the host's own words, from `docker version` run there
        assert "Cannot connect to the Docker daemon" in up.stderr
    finally:
        _bed("start-engine", "3")
    for h in hosts:
        assert _labelled(h) == 0


def test_host_lost_in_the_middle_of_up_then_converges(hosts: list[dict[str, str]],
                                                     clean: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "up", "--trust", OVERLAY], cwd=clean,
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
    bad = [(p["name"], p["actual"], p["output"]) for p in rep["probes"]
           if p["status"] != "passed"]
    assert not bad, bad


# Binds TCP and UDP port 7946 on every address, as swarm gossip does, until killed.
_HOLD_GOSSIP_PORT = """
import socket, time
held = []
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAITs, as Go does
    s.bind(("::", 7946))
    if kind == socket.SOCK_STREAM:
        s.listen()
    held.append(s)
print("held", flush=True)
time.sleep(600)
"""


def test_host_whose_swarm_gossip_cannot_start_is_named_and_converges_after_a_restart(
        hosts: list[dict[str, str]], clean: Path) -> None:
    """What Docker 20.10 does after a swarm leave that timed out: the old swarm's gossip
    keeps port 7946, so the new swarm's gossip on that host cannot start ("error in
    agentInit ... bind: address already in use") and every step still succeeds. Here a
    plain listener in worker1's namespace holds the port instead of a leftover gossip:
    `up` must not call the lab up, a later `up` stops before any change, and once the
    host's dockerd is restarted `up` converges and the probes pass."""
    holder = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/dnl-{hosts[1]['name']}", sys.executable, "-c",
         _HOLD_GOSSIP_PORT], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        up = _dnetlab(clean, "up", OVERLAY)
        assert up.returncode == 1, up.stderr
        assert "host worker1: its engine runs no swarm gossip" in up.stderr
        assert "restart dockerd on that host" in up.stderr
        again = _dnetlab(clean, "up", OVERLAY)
        assert again.returncode == 3, again.stderr
        assert "nothing was changed" in again.stderr and "host worker1" in again.stderr
    finally:
        holder.kill()
        holder.wait()
    _bed("stop-engine", "2")
    _bed("start-engine", "2")
    up = _dnetlab(clean, "up", OVERLAY)
    assert up.returncode == 0, up.stderr
    rep = json.loads(_dnetlab(clean, "verify", "--format", "json").stdout)
    bad = [(p["name"], p["actual"]) for p in rep["probes"] if p["status"] != "passed"]
    assert not bad, bad


def test_every_probe_type_over_ssh_in_one_command_per_host(hosts: list[dict[str, str]],
                                                           clean: Path) -> None:
    """The probe kit of test_verify (every type, passing and failing, a tool-less container
    whose probes move to a helper, a probe on the host) on a host reached over SSH: the
    same verdicts as on the local engine, with the source containers' batches in one SSH
    command."""
    from tests.integration.test_verify import FAILING, FAILING_NAMES, KIT, PASSING

    ssh = hosts[0]["ssh"]
    text = KIT.format(name="kit-ssh", probes=PASSING + FAILING).replace(
        "name: kit-ssh\n", f"name: kit-ssh\nhosts:\n  local: {{engine: '{ssh}'}}\n", 1)
    path = clean / "kit.yaml"
    path.write_text(text)
    up = _dnetlab(clean, "up", str(path))
    assert up.returncode == 0, up.stderr
    verify = _dnetlab(clean, "verify", "--format", "json")
    assert verify.returncode == 1, verify.stderr  # the failing set fails
    by = {p["name"]: p for p in json.loads(verify.stdout)["probes"]}
    assert set(by) >= FAILING_NAMES
    wrong = {n: (p["status"], p["actual"]) for n, p in by.items()
             if p["status"] != ("failed" if n in FAILING_NAMES else "passed")}
    assert not wrong, wrong
    exec_probe = next(p for n, p in by.items() if p["type"] == "exec" and n != "exec-wrong")
    assert exec_probe["output"].strip() == "out-42"
    assert [p["runs_on"] for p in by.values() if p["name"].startswith("ping bare")] == ["bare"]


@pytest.mark.parametrize("attach_max", [8, 0, 2])  # all attached, all in the script, both
def test_exec_many_over_ssh_frames_any_output_and_names_what_did_not_start(
        hosts: list[dict[str, str]], clean: Path, attach_max: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Engine.exec_many on an SSH host: exit codes and arbitrary bytes come back intact,
    text that looks like the framing does not confuse it, and a job docker cannot start is
    an error that says why, without spoiling the others; the same whether a job runs as
    an attached exec on a channel to the engine's socket or in the SSH command."""
    from dnetlab.engine import exec as execs

    monkeypatch.setattr(execs, "ATTACH_MAX", attach_max)
    from dnetlab.engine.engine import Engine
    from dnetlab.engine.errors import EngineError
    from dnetlab.engine.exec import ExecResult
    from dnetlab.engine.hostexec import Job
    from dnetlab.model import Host

    _bed("load-image", "1", "busybox:latest")
    c = _client(hosts[0])
    try:
        cid = c.create_container("busybox", "sleep 300", name="dnl-exec-many",
                                 labels={"dnetlab.scenario": "exec-many"})["Id"]
        c.start(cid)
    finally:
        c.close()
    engine = Engine.open(Host("h1", hosts[0]["ssh"]))
    try:
        assert engine.runs_execs_over_ssh
        jobs = [Job(cid, "echo hello; echo to-stderr >&2; exit 4"),
                Job("no-such-container", "true"),
                Job(cid, "printf 'a\\0b\\n@@dnl-x-000000000000 0 0 5 0\\n'; echo"),
                Job(cid, "seq 1 20000")]
        out = engine.exec_many(jobs, parallel=2)
    finally:
        engine.close()
    assert out[0] == ExecResult(4, "hello\nto-stderr\n")
    assert isinstance(out[1], EngineError)
    assert "no-such-container" in out[1].message, out[1].message
    assert "No such container" in out[1].message, out[1].message
    assert out[2] == ExecResult(0, "a\0b\n@@dnl-x-000000000000 0 0 5 0\n\n")
    assert isinstance(out[3], ExecResult)
    assert out[3].output.splitlines() == [str(i) for i in range(1, 20001)]
