"""Nothing that is not the lab's is ever changed, and conflicts stop `up` before any change."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.integration.labtools import lab_name, nothing_left, owned_containers, two_net_lab, write


def test_foreign_container_with_a_wanted_name_is_left_alone(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    foreign = docker_client.containers.run("busybox", "sleep 300", detach=True,
                                           name=f"{name}-c2", labels={"dnetlab.test": "1"})
    try:
        code, _, err = run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))
        assert code == 3
        assert f"container name '{name}-c2' (for container 'c2') is taken by container " \
               f"{foreign.id[:12]}, and it carries no dnetlab labels" in err
        assert "nothing was changed" in err
        assert nothing_left(docker_client, name)  # preflight ran before any change
        foreign.reload()
        assert foreign.status == "running" and foreign.labels == {"dnetlab.test": "1"}
        # down never touches it either
        run_cli("down", str(lab_dir / "s.yaml"))
        foreign.reload()
    finally:
        foreign.remove(force=True)


def test_container_of_another_scenario_with_a_wanted_name(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    other = docker_client.containers.run(
        "busybox", "sleep 300", detach=True, name=f"{name}-c1",
        labels={"dnetlab.scenario": "someone-else", "dnetlab.key": "c1"})
    try:
        code, _, err = run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))
        assert code == 3 and "belongs to dnetlab scenario 'someone-else'" in err
        other.reload()
        assert other.status == "running"
    finally:
        other.remove(force=True)


def test_foreign_network_with_a_wanted_name(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                            docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    net = docker_client.networks.create(f"{name}-front", labels={"dnetlab.test": "1"})
    try:
        code, _, err = run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))
        assert code == 3
        assert f"network name '{name}-front' (for network 'front') is taken by network " \
               f"{net.id[:12]}" in err
        assert nothing_left(docker_client, name)
        net.reload()
    finally:
        net.remove()


def test_overlapping_foreign_subnet_stops_up_before_any_change(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.222.0.0/16")])
    net = docker_client.networks.create(f"foreign-{name}", ipam=ipam,
                                        labels={"dnetlab.test": "1"})
    try:
        code, _, err = run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))
        assert code == 3
        assert (f"subnet 10.222.0.0/24 of network 'back' overlaps 10.222.0.0/16 of network "
                f"'foreign-{name}', which this lab does not own") in err
        assert nothing_left(docker_client, name)
        assert not (lab_dir / ".dnetlab" / f"{name}.json").exists()
    finally:
        net.remove()


def test_missing_image_that_cannot_be_pulled_stops_up(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    text = (f"version: 1\nname: {name}\ncontainers:\n  a: {{image: busybox}}\n"
            "  b: {image: 'dnetlab-test/absent:1'}\n")
    code, _, err = run_cli("up", write(lab_dir / "s.yaml", text))
    assert code == 3
    assert "image dnetlab-test/absent:1 is missing and cannot be pulled" in err
    assert nothing_left(docker_client, name)


def test_ipvlan_is_refused_where_the_kernel_lacks_it(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    text = (f"version: 1\nname: {name}\nnetworks:\n"
            "  iv: {driver: ipvlan, subnet: 10.224.0.0/24}\n"
            "containers:\n  a: {image: busybox, command: sleep infinity, networks: [iv]}\n")
    code, _, err = run_cli("up", write(lab_dir / "s.yaml", text))
    assert code == 3
    assert "uses the ipvlan driver, which this host's kernel does not support" in err
    assert nothing_left(docker_client, name)
    helpers = docker_client.networks.list(filters={"label": "dnetlab.kind=helper"})
    assert helpers == []  # the throwaway probe network is gone


@pytest.fixture
def veth_parent() -> Iterator[str]:
    """One end of a veth pair as a macvlan parent (this kernel has no dummy interfaces)."""
    name = "dnlt-mv0"
    subprocess.run(["ip", "link", "del", name], capture_output=True, check=False)
    subprocess.run(["ip", "link", "add", name, "type", "veth", "peer", "name", "dnlt-mv1"],
                   check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    subprocess.run(["ip", "link", "set", "dnlt-mv1", "up"], check=True)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            subprocess.run(["ip", "link", "del", name], check=False)


def test_macvlan_network_on_a_veth_parent(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                          docker_client: docker.DockerClient,
                                          veth_parent: str) -> None:
    name = lab_name()
    lab_names.append(name)
    text = f"""
version: 1
name: {name}
networks:
  mv: {{driver: macvlan, parent: {veth_parent}, subnet: 10.225.0.0/24}}
containers:
  a: {{image: busybox, command: sleep infinity, networks: {{mv: {{ipv4: 10.225.0.10}}}}}}
  b: {{image: busybox, command: sleep infinity, networks: {{mv: {{ipv4: 10.225.0.11}}}}}}
"""
    code, _, err = run_cli("up", write(lab_dir / "s.yaml", text))
    assert code == 0, err
    a = owned_containers(docker_client, name)["a"]
    assert a.exec_run(["ping", "-c", "1", "-W", "2", "10.225.0.11"]).exit_code == 0
    assert b"10.225.0.11" in a.exec_run(["nslookup", "b", "127.0.0.11"]).output
    assert "up to date" in run_cli("up", str(lab_dir / "s.yaml"))[1]
    assert run_cli("down")[0] == 0
    assert nothing_left(docker_client, name)
