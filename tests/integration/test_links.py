"""Legacy links and extra_hosts on the real engine (spec 10.2): the linking container's
/etc/hosts names the linked one, one way only; extra_hosts entries are written; `up`
converges, recreating a linker whose links changed or whose target was made again; `down`
removes everything. Only the lab's own containers and loopback are ever pinged."""

from __future__ import annotations

import json
from pathlib import Path

import docker

from tests.integration.labtools import ids, lab_name, nothing_left, owned_containers, write


def _lab(name: str, links: str = 'links: ["c2:web"]', c2_env: str = "A: '1'") -> str:
    return f"""version: 1
name: {name}
containers:
  c1:
    image: busybox
    command: sleep infinity
    dns: ["127.0.0.1"]
    {links}
    extra_hosts:
      db.lab: 10.237.0.5
      v6.lab: "fd00:237::5"
      loop.lab: 127.0.0.1
  c2:
    image: busybox
    command: sleep infinity
    dns: ["127.0.0.1"]
    env: {{{c2_env}}}
probes:
  - {{type: file, on: c1, path: /etc/hosts, within: 5,
      matches: "^172\\\\.17\\\\.[0-9.]+\\\\s+web\\\\s+c2\\\\s+{name}-c2$"}}
  - {{type: ping, from: c1, to: web}}
  - {{type: file, on: c2, path: /etc/hosts, absent_text: [c1, web, db.lab]}}
  - {{type: file, on: c1, path: /etc/hosts,
      matches: "^10\\\\.237\\\\.0\\\\.5\\\\s+db\\\\.lab$"}}
  - {{type: file, on: c1, path: /etc/hosts,
      matches: "^fd00:237::5\\\\s+v6\\\\.lab$"}}
  - {{type: ping, from: c1, to: loop.lab}}
"""


def _hosts(client: docker.DockerClient, name: str, key: str) -> str:
    c = owned_containers(client, name)[key]
    return c.exec_run(["cat", "/etc/hosts"]).output.decode()


def _address(client: docker.DockerClient, name: str, key: str) -> str:
    c = owned_containers(client, name)[key]
    return str(c.attrs["NetworkSettings"]["Networks"]["bridge"]["IPAddress"])


def test_links_and_extra_hosts_through_up_verify_edit_and_down(
        run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
        docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", _lab(name))
    code, out, err = run_cli("up", path)
    assert code == 0, err
    # the linked container is made first, and Docker got its Docker name with the alias
    said = out + err
    assert said.index(f"create container {name}-c2") < said.index(f"create container {name}-c1")
    c1 = owned_containers(docker_client, name)["c1"]
    assert c1.attrs["HostConfig"]["Links"] == [f"/{name}-c2:/{name}-c1/web"]
    assert sorted(c1.attrs["HostConfig"]["ExtraHosts"]) == [
        "db.lab:10.237.0.5", "loop.lab:127.0.0.1", "v6.lab:fd00:237::5"]
    hosts = _hosts(docker_client, name, "c1")
    assert f"{_address(docker_client, name, 'c2')}\tweb c2 {name}-c2" in hosts
    assert "c1" not in _hosts(docker_client, name, "c2")  # links are one-way

    code, out, err = run_cli("verify", "--format", "json")
    rep = json.loads(out)
    assert code == 0 and all(p["status"] == "passed" for p in rep["probes"]), rep["probes"]
    assert len(rep["probes"]) == 6

    # up twice: nothing to do, nothing recreated (c2 is listed under c1's link as well)
    first = ids(docker_client, name)
    code, out, _ = run_cli("up", path)
    assert code == 0 and f"lab {name} is up to date" in out
    assert ids(docker_client, name) == first
    code, out, _ = run_cli("status", "--format", "json")
    assert code == 0, out

    # the target made again: its linker is made again after it, and names its new self
    write(lab_dir / "s.yaml", _lab(name, c2_env="A: '2'"))
    code, out, _ = run_cli("plan", path)
    assert f"recreate container {name}-c1 [local]: linked container c2 is recreated" in out
    assert f"recreate container {name}-c2 [local]: config drift: env" in out
    code, _, err = run_cli("up", path)
    assert code == 0, err
    again = ids(docker_client, name)
    assert again["c1"] != first["c1"] and again["c2"] != first["c2"]
    assert f"{_address(docker_client, name, 'c2')}\tweb c2 {name}-c2" in _hosts(
        docker_client, name, "c1")
    code, out, _ = run_cli("verify")
    assert code == 0, out

    # the link dropped from the file: c1 is recreated without it, c2 is kept
    write(lab_dir / "s.yaml", _lab(name, links="", c2_env="A: '2'").replace(
        "  - {type: ping, from: c1, to: web}", "  - {type: ping, from: c1, to: web, "
        "expect: unreachable}"))
    code, out, _ = run_cli("plan", path)
    assert out.splitlines()[0] == (f"recreate container {name}-c1 [local]: config drift: "
                                   "links")
    code, _, err = run_cli("up", path)
    assert code == 0, err
    now = ids(docker_client, name)
    assert now["c1"] != again["c1"] and now["c2"] == again["c2"]
    hosts = _hosts(docker_client, name, "c1")
    assert "web" not in hosts and f"{name}-c2" not in hosts
    assert "db.lab" in hosts  # extra_hosts stay
    code, out, _ = run_cli("verify", "--format", "json")
    by = {p["name"]: p for p in json.loads(out)["probes"]}
    assert by["file c1:/etc/hosts"]["status"] == "failed"  # the link's line is gone
    assert by["ping c1 -> web"]["status"] == "passed"  # unreachable, as now written

    code, out, _ = run_cli("down")
    assert code == 0 and f"lab {name} is down" in out
    assert nothing_left(docker_client, name)
