"""A shared file's asks are refused until the user approves them, per file and per set of
asks; `--trust` approves one run only. Against the real engine: nothing is created before
the approval."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import docker

from tests.integration.labtools import lab_name, nothing_left, owned_containers, write


def _lab(name: str, extra: str = "") -> str:
    return f"""
version: 1
name: {name}
containers:
  c1:
    image: busybox
    command: sleep infinity
    cap_add: [NET_ADMIN, SYS_TIME]
    volumes: ["/tmp:/hosttmp:ro"]
{extra}
probes:
  - {{type: exec, on: "host:local", command: "ip -o link show lo", stdout_contains: "lo:"}}
  - {{type: file, on: c1, path: /etc/hostname, contains: c1}}
"""


def test_asks_are_refused_until_approved_and_again_when_they_change(
        run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
        docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", _lab(name))

    code, out, err = run_cli("validate", path)
    assert code == 0 and "ok" in out
    assert err.count("warning: asks:") == 3, err  # capability, host path, exec on the host

    code, _, err = run_cli("up", path)
    assert code == 2, err
    assert "up refused" in err and "you have not approved" in err
    for what in ("adds capabilities SYS_TIME", "mounts the host path /tmp at /hosttmp",
                 "runs a command in the network namespace of host local"):
        assert what in err, err
    assert f"dnetlab trust {path}" in err and "--trust" in err
    assert nothing_left(docker_client, name)  # refused before anything was made

    code, out, err = run_cli("trust", path)
    assert code == 0, err
    assert "approved" in out and "3 ask(s)" in out
    store = Path(os.environ["XDG_CONFIG_HOME"]) / "dnetlab" / "trust.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert str(Path(path).resolve()) in json.loads(store.read_text())["approvals"]

    code, _, err = run_cli("up", path)
    assert code == 0, err
    assert set(owned_containers(docker_client, name)) == {"c1"}
    code, out, err = run_cli("verify", "--format", "json")
    assert code == 0, out + err
    assert [p["status"] for p in json.loads(out)["probes"]] == ["passed", "passed"]

    # the file now asks for more: the old approval does not cover it
    write(lab_dir / "s.yaml", _lab(name, "  c2: {image: busybox, command: sleep infinity, "
                                        "volumes: [\"/etc:/hostetc:ro\"]}"))
    code, _, err = run_cli("up", path)
    assert code == 2 and "its asks changed since you approved it" in err, err
    assert "mounts the host path /etc" in err
    assert set(owned_containers(docker_client, name)) == {"c1"}
    code, _, err = run_cli("verify", path)
    assert code == 2 and "verify refused" in err

    # --trust: this run only, nothing recorded
    code, _, err = run_cli("up", "--trust", path)
    assert code == 0, err
    assert set(owned_containers(docker_client, name)) == {"c1", "c2"}
    assert run_cli("up", path)[0] == 2
    assert run_cli("down")[0] == 0
    assert nothing_left(docker_client, name)


def test_an_approval_is_per_file(run_cli, lab_dir: Path,  # type: ignore[no-untyped-def]
                                 lab_names: list[str]) -> None:
    name = lab_name()
    lab_names.append(name)
    first = write(lab_dir / "a.yaml", _lab(name))
    second = write(lab_dir / "b.yaml", _lab(name))
    assert run_cli("trust", first)[0] == 0
    code, _, err = run_cli("up", second)
    assert code == 2 and "you have not approved" in err


def test_trust_allows_env_names_for_that_file(run_cli, lab_dir: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch, lab_names: list[str]) -> None:
    name = lab_name()
    lab_names.append(name)
    monkeypatch.setenv("LAB_IMAGE", "busybox")
    text = ("version: 1\nname: " + name + "\ncontainers:\n"
            "  c1: {image: \"{{ env('LAB_IMAGE') }}\", command: sleep infinity}\n")
    path = write(lab_dir / "s.yaml", text)
    code, _, err = run_cli("validate", path)
    assert code == 2 and "env('LAB_IMAGE') is refused" in err
    code, out, err = run_cli("trust", "--allow-env", "LAB_IMAGE", path)
    assert code == 0 and "env() may read LAB_IMAGE" in out, err
    assert run_cli("validate", path)[0] == 0
    other = write(lab_dir / "other.yaml", text)
    assert run_cli("validate", other)[0] == 2  # the allowance is this file's only
