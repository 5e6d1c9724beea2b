"""What `pip install .` gives a user is what works: the wheel holds every module of the
tree, and its console script runs a real lab, on one host and across the test bed."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import docker
import pytest
from junitparser import JUnitXml

from tests.installed.conftest import ROOT, user_env
from tests.integration.labtools import nothing_left, write
from tests.integration.test_multihost import OVERLAY, _labelled, _reset
from tests.integration.test_multihost import hosts as hosts  # a fixture, used by name

PACKAGE_DATA = {"schemas/scenario.schema.json", "py.typed"}


def _tree_files() -> set[str]:
    pkg = ROOT / "dnetlab"
    return {p.relative_to(pkg).as_posix() for p in pkg.rglob("*.py")} | PACKAGE_DATA


def _site_package(venv: Path) -> Path:
    done = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import dnetlab, os; print(os.path.dirname(dnetlab.__file__))"],
                          cwd="/", env=user_env(), capture_output=True, text=True, timeout=60,
                          check=True)
    return Path(done.stdout.strip())


def test_the_installed_package_holds_exactly_the_modules_of_the_tree(user_venv: Path) -> None:
    installed = _site_package(user_venv)
    assert user_venv in installed.parents, f"dnetlab imports from {installed}, not the venv"
    assert "site-packages" in installed.parts and installed != ROOT / "dnetlab", (
        "the venv runs the work tree (an editable install)")
    shipped = {p.relative_to(installed).as_posix() for p in installed.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    tree = _tree_files()
    assert not tree - shipped, f"left out of the wheel: {sorted(tree - shipped)}"
    assert not shipped - tree, f"in the wheel but not in the tree: {sorted(shipped - tree)}"
    for data in PACKAGE_DATA:
        assert (installed / data).read_bytes() == (ROOT / "dnetlab" / data).read_bytes()
    # the schema users point their editors at is the one inside the package
    assert (installed / "schemas/scenario.schema.json").read_bytes() == (
        ROOT / "schemas/scenario.schema.json").read_bytes()


def _cli(venv: Path, cwd: Path, *args: str, timeout: float = 300,
         ) -> subprocess.CompletedProcess[str]:
    """The console script the wheel installed, from a directory outside the tree."""
    return subprocess.run([str(venv / "bin" / "dnetlab"), *args], cwd=cwd, env=user_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def _lab(name: str) -> str:
    return f"""
version: 1
name: {name}
networks:
  lan: {{subnet: 10.246.0.0/24, gateway: 10.246.0.1}}
containers:
  c1: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.246.0.10}}}}}}
  c2: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.246.0.11}}}}}}
probes:
  - {{type: ping, from: c1, to: c2}}
  - {{type: dns, from: c1, name: c2, address: 10.246.0.11}}
  - {{type: interfaces, on: c2, addresses: {{eth0: [10.246.0.11/24]}}}}
  - {{type: routes, on: c1, default_via: 10.246.0.1}}
  - {{type: file, on: c1, path: /etc/hosts, contains: "10.246.0.10"}}
"""


@pytest.fixture
def lab(tmp_path: Path, docker_client: docker.DockerClient, lab_names: list[str]) -> str:
    name = f"inst-{secrets.token_hex(3)}"
    lab_names.append(name)  # removed afterwards whatever happens
    return name


def test_installed_console_script_runs_a_lab_on_one_host(
        user_venv: Path, tmp_path: Path, lab: str, docker_client: docker.DockerClient) -> None:
    path = write(tmp_path / "lab.yaml", _lab(lab))
    done = _cli(user_venv, tmp_path, "validate", path)
    assert done.returncode == 0, done.stderr
    up = _cli(user_venv, tmp_path, "up", path)
    assert up.returncode == 0, up.stderr
    assert f"lab {lab} is up" in up.stdout

    verify = _cli(user_venv, tmp_path, "verify", "--format", "json")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    report = json.loads(verify.stdout)
    assert report["scenario"] == lab
    assert [p["status"] for p in report["probes"]] == ["passed"] * 5, report

    junit = tmp_path / "out" / "verify.xml"
    verify = _cli(user_venv, tmp_path, "verify", "--format", "junit", "--output", str(junit))
    assert verify.returncode == 0, verify.stderr
    suites = list(JUnitXml.fromfile(str(junit)))
    assert [s.name for s in suites] == [lab]
    assert suites[0].tests == 5 and suites[0].failures == 0 and suites[0].errors == 0

    status = _cli(user_venv, tmp_path, "status", "--format", "json")
    assert status.returncode == 0, status.stderr
    st = json.loads(status.stdout)
    assert st["up_to_date"] is True
    assert {c["key"]: c["state"] for c in st["containers"]} == {"c1": "running",
                                                               "c2": "running"}

    ex = _cli(user_venv, tmp_path, "exec", "c2", "--", "ip", "-4", "-o", "addr", "show", "eth0")
    assert ex.returncode == 0, ex.stderr
    assert "10.246.0.11/24" in ex.stdout

    down = _cli(user_venv, tmp_path, "down")
    assert down.returncode == 0, down.stderr
    assert nothing_left(docker_client, lab)


def test_installed_console_script_tests_a_lab_with_steps(
        user_venv: Path, tmp_path: Path, lab: str, docker_client: docker.DockerClient) -> None:
    steps = """steps:
  - name: c2 leaves lan
    do: [{disconnect: {container: c2, network: lan}}]
    probes: [{use: "ping c1 -> c2", expect: unreachable}]
  - name: c2 comes back
    within: 10
    do: [{connect: {container: c2, network: lan}}]
    probes: [{use: "ping c1 -> c2"}]
"""
    path = write(tmp_path / "lab.yaml", _lab(lab) + steps)
    junit = tmp_path / "steps.xml"
    done = _cli(user_venv, tmp_path, "test", "--format", "junit", "--output", str(junit),
                path)
    assert done.returncode == 0, done.stdout + done.stderr
    suites = list(JUnitXml.fromfile(str(junit)))
    assert [s.name for s in suites] == [lab, f"{lab} / step 1: c2 leaves lan",
                                        f"{lab} / step 2: c2 comes back"]
    assert all(s.failures == 0 and s.errors == 0 for s in suites)
    assert nothing_left(docker_client, lab)


def test_installed_console_script_runs_a_multihost_lab_over_ssh(
        user_venv: Path, tmp_path: Path, hosts: list[dict[str, str]]) -> None:
    _reset(hosts, images=False)
    try:
        # remote engines are asks: approved for the run, as CI would
        up = _cli(user_venv, tmp_path, "up", "--trust", OVERLAY, timeout=600)
        assert up.returncode == 0, up.stderr
        verify = _cli(user_venv, tmp_path, "verify", "--trust", "--format", "json")
        report = json.loads(verify.stdout)
        bad = [(p["name"], p["actual"]) for p in report["probes"] if p["status"] != "passed"]
        assert verify.returncode == 0 and not bad, bad
        down = _cli(user_venv, tmp_path, "down", timeout=600)
        assert down.returncode == 0, down.stderr
        assert all(_labelled(h) == 0 for h in hosts)
    finally:
        _cli(user_venv, tmp_path, "down", timeout=600)
        _reset(hosts, images=False)
