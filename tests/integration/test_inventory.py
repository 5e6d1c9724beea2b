"""`dnetlab inventory` and the inventory `up` writes: Ansible reads it, and its addresses
are the live ones, on the local engine and on the multi-host test bed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker

from tests.integration.labtools import lab_name, owned_containers, write
from tests.integration.test_multihost import (  # noqa: F401  (fixtures)
    OVERLAY,
    _client,
    _dnetlab,
    clean,
    hosts,
)


def _ansible_list(path: Path, home: Path) -> dict[str, Any]:
    tool = shutil.which("ansible-inventory", path=str(Path(sys.executable).parent))
    assert tool, "ansible-inventory comes with ansible-core, a dev dependency"
    res = subprocess.run([tool, "-i", str(path), "--list"], capture_output=True, text=True,
                         timeout=120, check=False,
                         env={**os.environ, "ANSIBLE_HOME": str(home / "ansible")})
    assert res.returncode == 0, res.stderr
    assert "Unable to parse" not in res.stderr and "Invalid characters" not in res.stderr
    listed: dict[str, Any] = json.loads(res.stdout)
    return listed


def _live(attrs: dict[str, Any]) -> dict[str, str]:
    """Docker network name -> IPv4 address, as the engine says."""
    return {net: ep["IPAddress"] for net, ep in attrs["NetworkSettings"]["Networks"].items()
            if ep["IPAddress"]}


def _lab(name: str) -> str:
    return f"""
version: 1
name: {name}
networks:
  front: {{subnet: 10.234.0.0/24}}
  back: {{subnet: 10.234.1.0/24}}
containers:
  c1:
    image: busybox
    command: sleep infinity
    networks: {{front: {{ipv4: 10.234.0.11}}}}
  c2:
    image: busybox
    command: sleep infinity
    networks: {{front: {{}}, back: {{ipv4: 10.234.1.12}}}}
  c3:
    image: busybox
    command: sleep infinity
    networks: {{back: {{}}}}
"""


def test_one_host_lab_inventory_matches_the_live_addresses(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str],
        docker_client: docker.DockerClient) -> None:
    name = lab_name("inv")
    lab_names.append(name)
    path = write(lab_dir / "lab.yaml", _lab(name))
    code, out, err = run_cli("inventory", path, "--format", "json")  # before up: declared
    assert code == 0, err
    before = json.loads(out)
    assert before["addresses"] == "declared"
    assert before["containers"]["c2"]["networks"]["front"]["ipv4"] is None
    code, _, err = run_cli("up", path)
    assert code == 0, err
    written = lab_dir / ".dnetlab" / f"{name}.inventory.yaml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert "addresses are live" in written.read_text()
    listed = _ansible_list(written, lab_dir)
    hostvars = listed["_meta"]["hostvars"]
    live = owned_containers(docker_client, name)
    assert set(hostvars) == set(live) == {"c1", "c2", "c3"}
    for key, ct in live.items():
        ct.reload()
        v = hostvars[key]
        assert v["ansible_connection"] == "community.docker.docker"
        assert v["ansible_host"] == ct.name and "ansible_docker_extra_args" not in v
        assert v["dnetlab_addresses"] == "live"
        got = {f"{name}-{net}": a["ipv4"] for net, a in v["dnetlab_networks"].items()}
        assert got == _live(ct.attrs), key
    assert sorted(listed["net_front"]["hosts"]) == ["c1", "c2"]
    assert sorted(listed["net_back"]["hosts"]) == ["c2", "c3"]
    assert sorted(listed["host_local"]["hosts"]) == ["c1", "c2", "c3"]
    # the command, from the record: the same live addresses; a stopped container's are
    # the declared ones, and it says so
    live["c3"].stop(timeout=0)
    code, out, err = run_cli("inventory", "--format", "json")
    assert code == 0, err
    now = json.loads(out)
    assert now["addresses"] == "mixed"
    assert now["containers"]["c3"]["addresses"] == "declared"
    assert now["containers"]["c2"]["networks"]["front"]["ipv4"] == \
        _live(live["c2"].attrs)[f"{name}-front"]
    code, out, _ = run_cli("inventory", "--output", str(lab_dir / "inv.yaml"))
    assert code == 0 and _ansible_list(lab_dir / "inv.yaml", lab_dir)["_meta"]["hostvars"][
        "c3"]["dnetlab_addresses"] == "declared"
    code, _, err = run_cli("inventory", "-n", "nope")
    assert code == 2 and "no lab named 'nope'" in err and "Traceback" not in err
    assert run_cli("down")[0] == 0
    assert not written.exists()


def test_overlay_inventory_matches_the_live_addresses_on_every_host(
        hosts: list[dict[str, str]], clean: Path) -> None:  # noqa: F811
    up = _dnetlab(clean, "up", OVERLAY)
    assert up.returncode == 0, up.stderr
    written = clean / ".dnetlab" / "overlay.inventory.yaml"
    listed = _ansible_list(written, clean)
    hostvars = listed["_meta"]["hostvars"]
    where = {"a1": 0, "iso": 0, "b1": 1, "c1": 2}
    assert set(hostvars) == set(where)
    engines = {"manager": "ssh://root@10.99.0.1", "worker1": "ssh://root@10.99.1.2",
               "worker2": "ssh://root@10.99.0.3"}
    for key, index in where.items():
        v = hostvars[key]
        assert v["ansible_docker_extra_args"] == f"-H {engines[v['dnetlab_host']]}"
        c = _client(hosts[index])
        try:
            attrs = c.inspect_container(f"overlay-{key}")
        finally:
            c.close()
        assert v["ansible_host"] == f"overlay-{key}" and v["dnetlab_addresses"] == "live"
        got = {f"overlay-{net}": a["ipv4"] for net, a in v["dnetlab_networks"].items()}
        assert got == _live(attrs), key
    assert sorted(listed["net_ovl"]["hosts"]) == ["a1", "b1", "c1"]
    assert listed["host_worker1"]["hosts"] == ["b1"]
    # the command reads the same over SSH
    out = _dnetlab(clean, "inventory", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["addresses"] == "live"
    for key in where:
        assert data["containers"][key]["networks"] == {
            net: {"ipv4": a["ipv4"], "ipv6": a["ipv6"]}
            for net, a in hostvars[key]["dnetlab_networks"].items()}
