"""The inventory built from a scenario and what was read live (no engine)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dnetlab.lab import inventory as inv
from dnetlab.load.pipeline import load

ROOT = Path(__file__).resolve().parents[3]
LAB = """
version: 1
name: inv-unit
hosts:
  local: {}
  far: {engine: "ssh://root@192.0.2.7"}
networks:
  front: {subnet: 10.234.0.0/24}
  my-back: {subnet: 10.234.1.0/24, hosts: [local, far]}
containers:
  c1:
    host: local
    image: busybox
    networks: {front: {ipv4: 10.234.0.11}}
  c2:
    host: local
    image: busybox
    networks: {front: {}, my-back: {ipv4: 10.234.1.12}}
  r1:
    host: far
    image: busybox
    networks: {my-back: {ipv4: 10.234.1.13}}
  solo:
    host: local
    image: busybox
    network_mode: none
"""


@pytest.fixture
def scenario(tmp_path: Path):  # type: ignore[no-untyped-def]
    f = tmp_path / "lab.yaml"
    f.write_text(LAB)
    return load(str(f)).scenario


def test_declared_addresses_hosts_groups_and_connection(scenario) -> None:  # type: ignore[no-untyped-def]
    built = inv.build(scenario)
    assert built.source == "declared"
    data = inv.as_json(built)
    assert data["addresses"] == "declared"
    assert data["containers"]["c2"]["networks"] == {
        "front": {"ipv4": None, "ipv6": None}, "my-back": {"ipv4": "10.234.1.12", "ipv6": None}}
    assert data["containers"]["r1"]["engine"] == "ssh://root@192.0.2.7"
    assert data["containers"]["solo"]["network_mode"] == "none"
    assert data["hosts"]["far"]["containers"] == ["r1"]
    assert data["networks"]["my-back"]["containers"] == ["c2", "r1"]
    ans = inv.as_ansible(built)["all"]
    assert ans["hosts"]["c1"]["ansible_connection"] == "community.docker.docker"
    assert ans["hosts"]["c1"]["ansible_host"] == "inv-unit-c1"
    assert "ansible_docker_extra_args" not in ans["hosts"]["c1"]
    assert ans["hosts"]["r1"]["ansible_docker_extra_args"] == "-H ssh://root@192.0.2.7"
    assert set(ans["children"]) == {"lab_inv_unit", "host_local", "host_far", "net_front",
                                    "net_my_back"}
    assert list(ans["children"]["net_my_back"]["hosts"]) == ["c2", "r1"]


def test_running_containers_show_live_addresses_in_the_files_order(scenario) -> None:  # type: ignore[no-untyped-def]
    live = {
        "c2": inv.LiveContainer("running", (("inv-unit-my-back", "10.234.1.12", None),
                                            ("inv-unit-front", "10.234.0.2", ""))),
        "c1": inv.LiveContainer("exited", (("inv-unit-front", "", None),)),
    }
    built = inv.build(scenario, live, "abc123")
    assert built.source == "mixed"
    data = inv.as_json(built)
    assert data["instance"] == "abc123"
    c2 = data["containers"]["c2"]
    assert c2["addresses"] == "live" and list(c2["networks"]) == ["front", "my-back"]
    assert c2["networks"]["front"]["ipv4"] == "10.234.0.2"
    c1 = data["containers"]["c1"]  # not running: its declared address, said so
    assert c1["addresses"] == "declared" and c1["state"] == "exited"
    assert c1["networks"]["front"]["ipv4"] == "10.234.0.11"
    assert data["containers"]["r1"]["state"] == "missing"
    host = inv.as_ansible(built)["all"]["hosts"]["c2"]
    assert host["dnetlab_ipv4"] == "10.234.0.2" and host["dnetlab_ipv4_my_back"] == "10.234.1.12"


def test_written_private_through_no_link_and_read_by_ansible(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = tmp_path / ".dnetlab"
    records.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (records / "inv-unit.inventory.yaml").symlink_to(victim)
    path = inv.write(inv.build(scenario), tmp_path)
    assert victim.read_text() == "keep\n" and not path.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.startswith("# Ansible inventory of dnetlab lab inv-unit: addresses are declared")
    assert yaml.safe_load(text)["all"]["vars"]["dnetlab_addresses"] == "declared"
    tool = shutil.which("ansible-inventory", path=str(Path(sys.executable).parent)) or \
        shutil.which("ansible-inventory")
    if tool is None:  # ansible-core is a dev dependency
        pytest.fail("ansible-inventory is not installed: pip install -e '.[dev]'")
    out = subprocess.run([tool, "-i", str(path), "--list"], capture_output=True, text=True,
                         check=True, timeout=120, env={**os.environ, "ANSIBLE_HOME":
                                                       str(tmp_path / "ansible")})
    listed = json.loads(out.stdout)
    assert sorted(listed["net_my_back"]["hosts"]) == ["c2", "r1"]
    assert listed["_meta"]["hostvars"]["r1"]["dnetlab_networks"]["my-back"]["ipv4"] == \
        "10.234.1.13"
    assert "Invalid characters" not in out.stderr
