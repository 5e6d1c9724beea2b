"""Ownership per instance (spec section 10.5) on the real engine: the name label alone
never makes an object the lab's. Two copies of a lab (two working directories, two
teammates) on one engine never change or remove each other's objects; a label spoofed by
hand is not enough to have an object removed; `down FILE` with no record here lists what
it would remove and needs a confirmation; a lab recorded before instances goes down."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from dnetlab.lab import instance
from tests.integration.labtools import ids, lab_name, nothing_left, owned_containers, write


def lab(name: str, octet: int, *, keys: tuple[str, ...] = ("c1", "c2"), net: str = "lan") -> str:
    """Busybox containers on one bridge, the first with a named volume, and a ping."""
    lines = [f"version: 1\nname: {name}\nnetworks:\n  {net}: {{subnet: 10.{octet}.0.0/24}}\n"
             "containers:"]
    for i, key in enumerate(keys):
        volume = f', volumes: ["{name}-{key}-data:/data"]' if i == 0 else ""
        lines.append(f"  {key}: {{image: busybox, command: sleep infinity{volume}, "
                     f"networks: {{{net}: {{ipv4: 10.{octet}.0.{10 + i}}}}}}}")
    lines.append(f"probes:\n  - {{type: ping, from: {keys[0]}, to: {keys[-1]}}}")
    return "\n".join(lines) + "\n"


def recorded_instance(workdir: Path, name: str) -> str:
    value = json.loads((workdir / ".dnetlab" / f"{name}.json").read_text())["instance"]
    assert isinstance(value, str)
    return value


def running(client: docker.DockerClient, cid: str) -> bool:
    c = client.containers.get(cid)
    return c.status == "running"


def make_spoofs(client: docker.DockerClient, name: str) -> dict[str, str]:
    """Two containers labelled `dnetlab.scenario=<name>` by hand, one with no instance
    label and one with another instance, each on a volume labelled the same way; their ids
    by name."""
    made: dict[str, str] = {}
    for tag, extra in (("bare", {}), ("other", {"dnetlab.instance": "0f0f0f0f0f0f"})):
        lbls = {"dnetlab.scenario": name, "dnetlab.key": f"spoof-{tag}", "dnetlab.test": "1",
                **extra}
        volume = client.volumes.create(f"{name}-spoof-{tag}", labels=lbls)
        c = client.containers.run("busybox", "sleep 600", detach=True,
                                  name=f"{name}-spoof-{tag}", labels=lbls,
                                  volumes={volume.name: {"bind": "/data", "mode": "rw"}})
        made[c.name] = c.id
    return made


def test_a_spoofed_name_label_is_not_ownership(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str],
        docker_client: docker.DockerClient) -> None:
    name = lab_name("sp")
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", lab(name, 250))
    spoofs = make_spoofs(docker_client, name)

    def spoofs_intact() -> None:
        for spoof, cid in spoofs.items():
            assert running(docker_client, cid), spoof
            docker_client.volumes.get(spoof)  # its volume too

    code, out, err = run_cli("plan", path)
    assert code == 0, err
    assert "spoof" not in out and "remove" not in out  # once: "remove ...: not in scenario"
    code, out, err = run_cli("up", path)
    assert code == 0, err
    assert "spoof" not in out + err
    code, out, _ = run_cli("plan", path)
    assert code == 0 and out == f"lab {name} is up to date: nothing to do\n"
    code, out, err = run_cli("down")
    assert code == 0, err
    spoofs_intact()
    assert run_cli("up", path)[0] == 0
    code, out, err = run_cli("down", "--volumes")
    assert code == 0, err
    spoofs_intact()
    with pytest.raises(docker.errors.NotFound):  # the lab's own volume is gone
        docker_client.volumes.get(f"{name}-c1-data")
    assert set(owned_containers(docker_client, name)) == {"spoof-bare", "spoof-other"}


def test_two_directories_up_one_file_the_second_is_a_conflict(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = lab_name("two")
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", lab(name, 251))
    first, second = lab_dir / "alice", lab_dir / "bob"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    assert run_cli("up", path)[0] == 0
    theirs = recorded_instance(first, name)
    before = ids(docker_client, name)

    monkeypatch.chdir(second)
    code, out, err = run_cli("up", path)
    assert code == 3, err
    assert (f"container name '{name}-c1' (for container 'c1') is taken by container "
            f"{before['c1'][:12]} of another copy of lab '{name}' (instance {theirs})") in err
    assert f"network name '{name}-lan' (for network 'lan') is taken" in err
    assert f"volume '{name}-c1-data' is taken by another copy of lab '{name}'" in err
    assert "nothing was changed" in err and "Traceback" not in err
    assert not (second / ".dnetlab" / f"{name}.json").exists()
    code, out, err = run_cli("plan", path)
    assert code == 3 and "remove" not in out and f"instance {theirs}" in err
    assert ids(docker_client, name) == before  # the same containers, still running
    assert all(running(docker_client, cid) for cid in before.values())

    monkeypatch.chdir(first)  # the first copy is as it was: it verifies and goes down
    code, out, err = run_cli("verify")
    assert code == 0, out + err
    assert "up to date" in run_cli("up", path)[1]
    code, out, err = run_cli("down", "--volumes")
    assert code == 0, err
    assert nothing_left(docker_client, name)


def test_another_file_with_the_lab_name_never_plans_removal_of_the_first(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = lab_name("same")
    lab_names.append(name)
    first, second = lab_dir / "first", lab_dir / "second"
    first.mkdir()
    second.mkdir()
    mine = write(first / "s.yaml", lab(name, 252))
    other = write(second / "s.yaml", lab(name, 253, keys=("x", "y"), net="back"))
    monkeypatch.chdir(first)
    assert run_cli("up", mine)[0] == 0
    before = ids(docker_client, name)

    monkeypatch.chdir(second)
    code, out, err = run_cli("plan", other)
    assert code == 0, err
    assert out.splitlines() == [
        f"create volume {name}-x-data [local]: not found",
        f"create network {name}-back [local]: not found",
        f"create container {name}-x [local]: not found",
        f"create container {name}-y [local]: not found",
        f"4 changes to lab {name}",
    ]
    code, out, err = run_cli("up", other)
    assert code == 0, err
    assert "remove" not in out + err
    after = ids(docker_client, name)
    assert {k: after[k] for k in before} == before and set(after) == {"c1", "c2", "x", "y"}
    assert all(running(docker_client, cid) for cid in after.values())
    assert "up to date" in run_cli("up", other)[1]
    code, _, err = run_cli("down", "--volumes")  # the second copy's only
    assert code == 0, err
    assert ids(docker_client, name) == before

    monkeypatch.chdir(first)
    assert "up to date" in run_cli("up", mine)[1]  # saw nothing of the other copy's
    assert run_cli("verify")[0] == 0
    assert run_cli("down", "--volumes")[0] == 0
    assert nothing_left(docker_client, name)


def test_down_of_a_file_without_a_record_lists_and_asks(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = lab_name("norec")
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", lab(name, 250))
    upped, elsewhere = lab_dir / "upped", lab_dir / "elsewhere"
    upped.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(upped)
    assert run_cli("up", path)[0] == 0
    theirs = recorded_instance(upped, name)
    before = ids(docker_client, name)

    monkeypatch.chdir(elsewhere)
    # status and verify of the file act on the one copy there is, and say status does
    code, out, err = run_cli("status", path)
    assert code == 0, err
    assert f"no record of lab {name} here: showing its objects of any instance" in out
    assert f"instances: instance {theirs}" in out
    st = json.loads(run_cli("status", path, "--format", "json")[1])
    assert st["instance"] is None and st["instances"] == [theirs] and st["up_to_date"]
    assert run_cli("verify", path)[0] == 0

    # pytest's stdin is no terminal: without --yes, exit 2 with the list, nothing removed
    for args in (("down", path), ("down", "-n", name), ("down", "--volumes", path)):
        code, out, err = run_cli(*args)
        assert code == 2, (args, err)
        assert f"no record of lab {name} here" in err
        assert f"remove container {name}-c1 [local]: down, instance {theirs}" in err
        assert f"remove network {name}-lan [local]: down, instance {theirs}" in err
        assert "--yes" in err and "Traceback" not in err
        assert ids(docker_client, name) == before
    assert f"remove volume {name}-c1-data [local]: down (--volumes), instance {theirs}" in err
    code, out, err = run_cli("down", "--volumes", "--yes", path)
    assert code == 0, err
    assert f"lab {name} is down: 4 object(s) removed" in out
    assert nothing_left(docker_client, name)
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(f"{name}-c1-data")
    assert not (elsewhere / ".dnetlab" / f"{name}.instance").exists()  # never its instance

    monkeypatch.chdir(upped)  # the copy's own directory: nothing of it is left
    code, out, err = run_cli("down")
    assert code == 0 and f"lab {name} is down: nothing of it was found" in out, err


def test_a_lab_recorded_before_instances_goes_down(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An older dnetlab wrote no instance in the record and labelled no object with one:
    such a lab keeps converging and goes down cleanly."""
    name = lab_name("old")
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", lab(name, 251))
    with monkeypatch.context() as m:  # as the older dnetlab: no instance anywhere
        m.setattr(instance, "new_instance", lambda: "")
        assert run_cli("up", path)[0] == 0
    record = lab_dir / ".dnetlab" / f"{name}.json"
    data = json.loads(record.read_text())
    del data["instance"]
    data["dnetlab_version"] = "0.0.9"
    record.write_text(json.dumps(data))
    cs = owned_containers(docker_client, name)
    assert set(cs) == {"c1", "c2"}
    assert all("dnetlab.instance" not in c.labels for c in cs.values())
    assert "dnetlab.instance" not in docker_client.volumes.get(f"{name}-c1-data").attrs["Labels"]
    code, out, err = run_cli("up", path)
    assert code == 0 and "up to date" in out, err
    assert run_cli("verify")[0] == 0
    code, out, err = run_cli("down", "--volumes")
    assert code == 0, err
    assert nothing_left(docker_client, name)
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(f"{name}-c1-data")


def test_down_without_a_record_asks_on_a_terminal(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import pty
    import subprocess
    import sys

    name = lab_name("tty")
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", lab(name, 252))
    upped, elsewhere = lab_dir / "upped", lab_dir / "elsewhere"
    upped.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(upped)
    assert run_cli("up", path)[0] == 0
    before = ids(docker_client, name)

    def down_answering(answer: bytes) -> subprocess.CompletedProcess[str]:
        master, slave = pty.openpty()  # a terminal on stdin, as a person has
        try:
            proc = subprocess.Popen([sys.executable, "-m", "dnetlab", "down", path],
                                    cwd=elsewhere, stdin=slave, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            os.close(slave)
            os.write(master, answer)
            out, err = proc.communicate(timeout=120)
        finally:
            os.close(master)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    no = down_answering(b"n\n")
    assert no.returncode == 1, no.stderr
    assert f"remove container {name}-c2 [local]: down, instance " in no.stderr
    assert "remove these 3 object(s)? [y/N]" in no.stderr
    assert f"lab {name}: nothing was removed" in no.stderr
    assert ids(docker_client, name) == before
    yes = down_answering(b"y\n")
    assert yes.returncode == 0, yes.stderr
    assert f"lab {name} is down: 3 object(s) removed" in yes.stdout
    assert nothing_left(docker_client, name)
    docker_client.volumes.get(f"{name}-c1-data")  # kept: no --volumes
