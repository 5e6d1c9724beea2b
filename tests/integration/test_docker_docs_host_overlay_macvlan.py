"""Three of Docker's networking tutorials as labs (scenarios/docker-docs/): the host
network (local engine), the overlay for standalone containers and the macvlan network
(hosts of the test bed, reached over SSH). Each goes up, every probe passes, and it goes
down leaving nothing; each broken on purpose the way its tutorial is about (a container
moved to another network) fails exactly the probes of the observations it breaks.

A mutation is a textual edit of the scenario; probes are named by their place in the
file's `probes` list."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from dnetlab.load.pipeline import load
from tests.integration.labtools import lab_name, nothing_left
from tests.integration.test_multihost import _client, _reset

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "scenarios" / "docker-docs"
DNETLAB = [sys.executable, "-m", "dnetlab"]

# scenario -> the test-bed hosts it uses (by name in .testbed/hosts.json); none: local
BED_HOSTS = {"host": (), "overlay": ("h1", "h2"), "macvlan": ("h3", "h1"),
             "macvlan-8021q": ("h3",)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Edits every run makes: a free loopback port for the host network's server (it binds
# a port of this very machine).
def _base_edits(stem: str) -> list[tuple[str, str]]:
    return [("  port: 28471\n", f"  port: {_free_port()}\n")] if stem == "host" else []


def _copy(stem: str, name: str, where: Path, edits: list[tuple[str, str]]) -> Path:
    text = (DOCS / f"{stem}.yaml").read_text()
    for old, new in [*_base_edits(stem), *edits]:
        assert text.count(old) == 1, f"{stem}: the edit's anchor {old!r} moved"
        text = text.replace(old, new)
    text, n = re.subn(r"(?m)^name: .*$", f"name: {name}", text)
    assert n == 1
    path = where / f"{stem}.yaml"
    path.write_text(text)
    return path


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if args[0] in ("up", "verify"):  # host network, host exec, remote engines: asks
        args = (args[0], "--trust", *args[1:])
    return subprocess.run([*DNETLAB, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def _verify(cwd: Path) -> tuple[int, dict[str, str]]:
    run = _run(cwd, "verify", "--format", "json")
    report = json.loads(run.stdout)
    return run.returncode, {p["name"]: p["status"] for p in report["probes"]}


def _failed_indexes(path: Path, status: dict[str, str]) -> set[int]:
    names: dict[int, set[str]] = {}
    for p in load(str(path)).scenario.probes:
        names.setdefault(p.index, set()).add(p.name)
    return {i for i, ns in names.items() if any(status[n] != "passed" for n in ns)}


@pytest.fixture(scope="module")
def bed() -> dict[str, dict[str, str]]:
    """The test bed's hosts by name. `make test` brings the bed up before the suite;
    this never rebuilds it (other labs may be using more hosts than these tests)."""
    hosts = json.loads((ROOT / ".testbed" / "hosts.json").read_text())["hosts"]
    by_name = {h["name"]: h for h in hosts}
    assert {"h1", "h2", "h3"} <= set(by_name), "run `make testbed` (3 hosts at least)"
    return by_name


@pytest.fixture
def lab(request: pytest.FixtureRequest, bed: dict[str, dict[str, str]], tmp_path: Path,
        lab_names: list[str]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A fresh lab name, and the test-bed hosts of the scenario (the parameter), which
    are reset before and after (no containers, no swarm, as a user would have them)."""
    stem: str = request.param
    hosts = [bed[h] for h in BED_HOSTS[stem]]
    _reset(hosts, images=False)
    name = lab_name("dd")
    lab_names.append(name)
    yield name, hosts
    _run(tmp_path, "down")
    _reset(hosts, images=False)


def _left_on_bed(hosts: list[dict[str, str]], name: str) -> int:
    found = 0
    for h in hosts:
        c = _client(h)
        try:
            flt = {"label": f"dnetlab.scenario={name}"}
            found += len(c.containers(all=True, filters=flt)) + len(c.networks(filters=flt))
        finally:
            c.close()
    return found


@pytest.mark.parametrize("lab", ["host", "overlay", "macvlan"], indirect=True,
                         ids=lambda s: f"{s}")
def test_tutorial_goes_up_verifies_and_goes_down(lab: tuple[str, list[dict[str, str]]],
                                                 tmp_path: Path,
                                                 docker_client: docker.DockerClient,
                                                 request: pytest.FixtureRequest) -> None:
    name, hosts = lab
    stem = request.node.callspec.params["lab"]
    path = _copy(stem, name, tmp_path, [])
    up = _run(tmp_path, "up", str(path))
    assert up.returncode == 0, up.stderr
    code, status = _verify(tmp_path)
    assert code == 0 and set(status.values()) == {"passed"}, status
    assert len(status) == len(load(str(path)).scenario.probes)
    if stem == "overlay":
        _overlay_network_list_on_host2(name, hosts, tmp_path)
    down = _run(tmp_path, "down")
    assert down.returncode == 0, down.stderr
    assert nothing_left(docker_client, name)
    assert _left_on_bed(hosts, name) == 0
    for h in hosts:  # the swarm the lab made is gone with it
        c = _client(h)
        assert c.info()["Swarm"]["LocalNodeState"] == "inactive", h["name"]
        c.close()


def _network_ids(h: dict[str, str], name: str) -> list[str]:
    c = _client(h)
    try:
        return [n["Id"] for n in c.networks(names=[name]) if n["Name"] == name]
    finally:
        c.close()


def _overlay_network_list_on_host2(name: str, hosts: list[dict[str, str]],
                                   cwd: Path) -> None:
    """Steps 4 and 6 of the tutorial, which read `docker network ls` on host2: test-net
    is there only while a container of host2 uses it, and it is the manager's network
    (the same NETWORK ID)."""
    host1, host2 = hosts
    net = f"{name}-test-net"
    on_host1 = _network_ids(host1, net)
    assert len(on_host1) == 1
    assert _network_ids(host2, net) == on_host1  # step 6
    c = _client(host2)
    try:
        for key in ("alpine2", "alpine3"):
            c.disconnect_container_from_network(f"{name}-{key}", net)
    finally:
        c.close()
    for _ in range(50):  # the worker lets the network go a moment after its last user
        if not _network_ids(host2, net):
            break
        time.sleep(0.1)
    assert _network_ids(host2, net) == []  # step 4: no container there, no test-net
    up = _run(cwd, "up", str(cwd / "overlay.yaml"))  # repairs: both join again
    assert up.returncode == 0, up.stderr
    assert _network_ids(host2, net) == on_host1
    code, status = _verify(cwd)
    assert code == 0, status


# scenario -> (what the mutation does, edits, probes that must fail, probes that must pass)
MUTATIONS: dict[str, tuple[str, list[tuple[str, str]], set[int], set[int]]] = {
    "host": ("the server gets its own namespace on the default bridge",
             [("    network_mode: host\n", "    network_mode: bridge\n")],
             {0, 1, 2, 3, 4}, {5}),
    "overlay": ("alpine2 is on a bridge of host2 instead of test-net",
                [("    subnet: 10.214.0.0/24\n",
                  "    subnet: 10.214.0.0/24\n"
                  "  elsewhere: {subnet: 10.215.0.0/24, hosts: [host2]}\n"),
                 ("networks: {test-net: {ipv4: 10.214.0.20}}",
                  "networks: {elsewhere: {ipv4: 10.215.0.20}}")],
                {0, 1}, {2}),
    "macvlan": ("the container is on the Docker host's default bridge instead of macvlan",
                [("    networks: {my-macvlan-net: {ipv4: 172.16.86.2}}\n",
                  "    network_mode: bridge\n")],
                {0, 1, 3, 4, 5}, {2}),
}


@pytest.mark.parametrize("lab", sorted(MUTATIONS), indirect=True, ids=lambda s: f"{s}")
def test_breaking_the_tutorial_fails_its_probes(lab: tuple[str, list[dict[str, str]]],
                                                tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    name, _ = lab
    stem = request.node.callspec.params["lab"]
    what, edits, must_fail, must_pass = MUTATIONS[stem]
    path = _copy(stem, name, tmp_path, edits)
    up = _run(tmp_path, "up", str(path))
    assert up.returncode == 0, up.stderr
    code, status = _verify(tmp_path)
    failed = _failed_indexes(path, status)
    assert code == 1, f"{stem} ({what}): every probe passed"
    assert must_fail <= failed, (f"{stem} ({what}): expected probes {sorted(must_fail)} to "
                                 f"fail, failed: {sorted(failed)}\n{json.dumps(status)}")
    assert not (must_pass & failed), f"{stem} ({what}): unrelated probes failed: {failed}"


def _kernel_has_8021q(h: dict[str, str]) -> bool:
    """Whether a VLAN sub-interface can be made in the host's namespace."""
    ns = f"--net=/run/netns/dnl-{h['name']}"
    made = subprocess.run(["nsenter", ns, "ip", "link", "add", "link", "eth0", "name",
                           "dnlt-vlan.9", "type", "vlan", "id", "9"],
                          capture_output=True, check=False).returncode == 0
    if made:
        subprocess.run(["nsenter", ns, "ip", "link", "del", "dnlt-vlan.9"], check=True)
    return made


@pytest.mark.parametrize("lab", ["macvlan-8021q"], indirect=True, ids=lambda s: f"{s}")
def test_trunked_macvlan_runs_or_is_refused_before_any_change(
        lab: tuple[str, list[dict[str, str]]], tmp_path: Path) -> None:
    """The 802.1Q example needs the kernel's 8021q on the Docker host: with it, the lab
    proves the tutorial; without it (this project's machines), up refuses it in its
    preflight, naming host, network and module, and nothing is left (no network, no
    sub-interface)."""
    name, hosts = lab
    path = _copy("macvlan-8021q", name, tmp_path, [])
    up = _run(tmp_path, "up", str(path))
    if _kernel_has_8021q(hosts[0]):
        assert up.returncode == 0, up.stderr
        code, status = _verify(tmp_path)
        assert code == 0, status
        assert _run(tmp_path, "down").returncode == 0
    else:
        assert up.returncode == 3, up.stderr
        assert ("host docker-host: network 'my-8021q-macvlan-net' needs eth0.10, a VLAN "
                "sub-interface of eth0 that Docker could not create") in up.stderr
        assert "no 802.1Q VLAN support (module 8021q)" in up.stderr
        assert "Traceback" not in up.stderr
    assert _left_on_bed(hosts, name) == 0
    c = _client(hosts[0])
    try:  # the throwaway network of the preflight is gone too
        assert not c.networks(filters={"label": "dnetlab.kind=helper"})
    finally:
        c.close()
    links = subprocess.run(["ip", "-n", f"dnl-{hosts[0]['name']}", "-o", "link"],
                           capture_output=True, text=True, check=True).stdout
    assert "eth0.10" not in links
