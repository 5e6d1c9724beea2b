"""External networks on the real engine (spec 10.2): a lab joins Docker's default bridge
and a network of the user's beside its own, verifies across them, and leaves both as it
found them; a missing one stops `up` before any change. Then Docker's "Networking with
standalone containers" tutorial as a lab, and the mutations that break its lessons."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.networks import Network

from dnetlab.load.pipeline import load
from tests.integration.labtools import lab_name, nothing_left, owned_containers, write

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = ROOT / "scenarios" / "docker-docs" / "standalone.yaml"
TEAM_SUBNET = "10.237.16.0/24"


@pytest.fixture
def team_net(docker_client: docker.DockerClient, unique_name: str,
             test_labels: dict[str, str]) -> Iterator[tuple[Network, str]]:
    """A user's network, made with the SDK (not by dnetlab), with a container of the
    user's on it and on the default bridge; both removed afterwards."""
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=TEAM_SUBNET)])
    net = docker_client.networks.create(unique_name, driver="bridge", ipam=ipam,
                                        labels=test_labels)
    other = docker_client.containers.create("busybox", ["sleep", "infinity"],
                                            name=f"{unique_name}-user", labels=test_labels,
                                            network=net.name)
    docker_client.networks.get("bridge").connect(other)
    other.start()
    try:
        yield net, other.id
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            other.remove(force=True)
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            net.remove()


def _attached(docker_client: docker.DockerClient, net: str) -> tuple[str, set[str]]:
    """A network's id and the ids of the containers on it, as the engine tells."""
    n = docker_client.networks.get(net)
    return n.id, set(n.attrs.get("Containers") or {})


def _lab(name: str, team: str) -> str:
    return f"""
version: 1
name: {name}
networks:
  lan: {{subnet: 10.237.15.0/24}}
  bridge: {{external: true}}
  team: {{external: true, name: {team}, subnet: {TEAM_SUBNET}}}
containers:
  c1:
    image: busybox
    command: sleep infinity
    dns: ["127.0.0.1"]
    networks:
      lan: {{ipv4: 10.237.15.10}}
      bridge: {{}}
      team: {{ipv4: 10.237.16.10}}
  c2:
    image: busybox
    command: sleep infinity
    dns: ["127.0.0.1"]
    networks: {{lan: {{ipv4: 10.237.15.11}}}}
  c3:
    image: busybox
    command: sleep infinity
    dns: ["127.0.0.1"]
probes:
  - {{type: ping, from: c2, to: c1, within: 5}}
  - {{type: ping, from: c1, to: c3@bridge}}
  - {{type: ping, from: c3, to: c1}}
  - {{type: dns, from: c1, name: c2, address: 10.237.15.11}}
"""


def test_a_lab_joins_the_default_bridge_and_a_users_network_and_leaves_them_be(
        run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
        docker_client: docker.DockerClient, team_net: tuple[Network, str]) -> None:
    net, user = team_net
    name = lab_name("ext")
    lab_names.append(name)
    path = write(lab_dir / "ext.yaml", _lab(name, net.name))
    bridge_before = _attached(docker_client, "bridge")
    team_before = _attached(docker_client, net.name)
    assert user in bridge_before[1] and user in team_before[1]

    code, _, err = run_cli("up", path)
    assert code == 0, err
    c1 = owned_containers(docker_client, name)["c1"]
    c1.reload()
    assert set(c1.attrs["NetworkSettings"]["Networks"]) == {"bridge", net.name, f"{name}-lan"}
    assert c1.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"] == "10.237.16.10"
    # the user's container, by its address on the network the lab shares with it
    user_ip = docker_client.containers.get(user).attrs["NetworkSettings"]["Networks"][
        net.name]["IPAddress"]
    assert c1.exec_run(["ping", "-c", "1", "-W", "2", user_ip]).exit_code == 0
    assert "is up to date" in run_cli("plan", path)[1]

    code, out, err = run_cli("verify", "--format", "json", path)
    assert code == 0, out + err
    assert json.loads(out)["summary"]["passed"] == 4
    code, out, err = run_cli("verify", "--auto", "--format", "json", path)
    assert code == 0, out + err
    auto = [p["name"] for p in json.loads(out)["probes"] if p["name"].startswith("auto:")]
    assert "auto: c3 -> c1@bridge" in auto and "auto: c2 -/-> c3@bridge" in auto

    code, out, _ = run_cli("status", "--format", "json", path)
    nets = {n["key"]: n for n in json.loads(out)["networks"]}
    assert (nets["team"]["external"], nets["team"]["state"], nets["team"]["name"]) == (
        True, "present", net.name)
    assert nets["bridge"]["external"] and not nets["lan"]["external"]
    code, table, _ = run_cli("status", path)
    assert re.search(rf"{re.escape(net.name)}\s.*\sexternal\W+present", table), table

    code, _, err = run_cli("down")
    assert code == 0, err
    assert nothing_left(docker_client, name)
    # the same networks, with the same other containers on them
    assert _attached(docker_client, "bridge")[0] == bridge_before[0]
    assert user in _attached(docker_client, "bridge")[1]
    assert _attached(docker_client, net.name) == team_before


def test_preflight_names_a_missing_external_network_and_makes_nothing(
        run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
        docker_client: docker.DockerClient, unique_name: str) -> None:
    name = lab_name("ext")
    lab_names.append(name)
    path = write(lab_dir / "ext.yaml", _lab(name, f"{unique_name}-gone"))
    code, _, err = run_cli("up", path)
    assert code == 3, err
    line = next(x for x in err.splitlines() if "does not exist" in x)
    # located at `external: true` of network team (line 7 of the file)
    assert "ext.yaml:7:" in line and "networks.team.external" in line
    assert f"external network '{unique_name}-gone' does not exist" in line
    assert f"docker network create {unique_name}-gone" in line
    assert nothing_left(docker_client, name)
    code, _, err = run_cli("plan", path)
    assert code == 3 and f"'{unique_name}-gone' does not exist" in err


# -- Docker's "Networking with standalone containers" -----------------------------------

def _renamed(text: str, name: str) -> str:
    text, n = re.subn(r"(?m)^name: .*$", f"name: {name}", text)
    assert n == 1
    return text


def test_the_standalone_tutorial_goes_up_verifies_and_goes_down(
        run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
        docker_client: docker.DockerClient) -> None:
    name = lab_name("standalone")
    lab_names.append(name)
    path = write(lab_dir / "standalone.yaml", _renamed(STANDALONE.read_text(), name))
    bridge_id = docker_client.networks.get("bridge").id
    code, _, err = run_cli("up", path)
    assert code == 0, err
    code, out, err = run_cli("verify", "--format", "json", path)
    report = json.loads(out)
    failed = [p["name"] for p in report["probes"] if p["status"] != "passed"]
    assert code == 0 and not failed, failed
    assert report["summary"]["passed"] == len(load(path).scenario.probes)
    code, out, err = run_cli("verify", "--auto", "--format", "json", path)
    assert code == 0, [p for p in json.loads(out)["probes"] if p["status"] != "passed"]
    code, _, err = run_cli("down")
    assert code == 0, err
    assert nothing_left(docker_client, name)
    assert docker_client.networks.get("bridge").id == bridge_id


ALPINE3 = '  alpine3:\n    image: busybox\n    command: sleep infinity\n    dns: ["127.0.0.1"]\n'
ALPINE4_NETS = "      alpine-net: {ipv4: 10.237.14.4}\n      bridge: {}\n"
# what the mutation does, [(old, new)], probes (by index) that must fail, and every other
# probe must pass
MUTATIONS: dict[str, tuple[list[tuple[str, str]], set[int]]] = {
    # forget `docker network connect bridge alpine4`: it has one interface, and alpine3's
    # address on the default bridge is out of its reach
    "alpine4 not on the default bridge": (
        [(ALPINE4_NETS, "      alpine-net: {ipv4: 10.237.14.4}\n")], {9, 22}),
    # alpine3 put on alpine-net too: it has two interfaces, and its name resolves for
    # alpine1 and alpine4 now
    "alpine3 on alpine-net as well": (
        [(ALPINE3, ALPINE3 + "    networks:\n      alpine-net: {ipv4: 10.237.14.5}\n"
                             "      bridge: {}\n")], {8, 15, 21}),
}


@pytest.mark.parametrize("what", sorted(MUTATIONS))
def test_breaking_the_standalone_tutorial_fails_exactly_its_probes(
        what: str, run_cli, lab_dir: Path,  # type: ignore[no-untyped-def]
        lab_names: list[str]) -> None:
    edits, must_fail = MUTATIONS[what]
    name = lab_name("standalone-mut")
    lab_names.append(name)
    text = _renamed(STANDALONE.read_text(), name)
    for old, new in edits:
        assert text.count(old) == 1, f"the mutation's anchor {old!r} moved"
        text = text.replace(old, new)
    path = write(lab_dir / "standalone.yaml", text)
    code, _, err = run_cli("up", "--trust", path)
    assert code == 0, err
    code, out, _ = run_cli("verify", "--format", "json", path)
    status = {p["name"]: p["status"] for p in json.loads(out)["probes"]}
    by_index: dict[int, set[str]] = {}
    for p in load(path).scenario.probes:
        by_index.setdefault(p.index, set()).add(p.name)
    failed = {i for i, names in by_index.items() if any(status[n] != "passed" for n in names)}
    assert code == 1
    assert failed == must_fail, f"{what}: failed {sorted(failed)}\n{json.dumps(status)}"
    assert run_cli("down")[0] == 0
