"""The test bed itself: the local engine and the two images that
scripts/busybox-image.sh builds (busybox:latest, dnetlab/bare:latest).

Traffic stays on loopback or on a bridge network made here; containers get
``dns=["127.0.0.1"]`` so that no name lookup leaves the machine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import docker
import pytest
from docker.models.containers import Container

BUSYBOX = "busybox:latest"
BARE = "dnetlab/bare:latest"
SUBNET = "10.231.0.0/24"
GATEWAY = "10.231.0.1"


def remove(container: Container) -> None:
    """Kill and remove at once: no graceful stop, for speed."""
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True)


@pytest.fixture
def run_sleeper(
    docker_client: docker.DockerClient, test_labels: dict[str, str]
) -> Iterator[Callable[..., Container]]:
    """Start `sleep 300` containers; whatever was started is removed afterwards.

    Without a ``network`` argument a container gets no network (loopback only).
    """
    started: list[Container] = []

    def run(image: str, name: str, **kwargs: object) -> Container:
        if "network" not in kwargs:
            kwargs.setdefault("network_mode", "none")
        container = docker_client.containers.run(
            image,
            ["sleep", "300"],
            name=name,
            labels=test_labels,
            init=True,
            detach=True,
            dns=["127.0.0.1"],
            **kwargs,
        )
        started.append(container)
        return container

    try:
        yield run
    finally:
        for container in started:
            remove(container)


def test_busybox_container_lifecycle(
    docker_client: docker.DockerClient, unique_name: str, test_labels: dict[str, str]
) -> None:
    container = docker_client.containers.run(
        BUSYBOX,
        ["sleep", "300"],
        name=unique_name,
        labels=test_labels,
        init=True,
        detach=True,
        network_mode="none",
    )
    try:
        container.reload()
        assert container.status == "running"
        assert container.labels["dnetlab.test"] == "1"

        result = container.exec_run("ping -c1 127.0.0.1")
        assert result.exit_code == 0, result.output
        assert b"1 packets received" in result.output

        container.remove(force=True)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(container.id)
        assert not docker_client.containers.list(all=True, filters={"name": unique_name})
    finally:
        remove(container)


def test_bare_image_has_sh_but_no_probe_tools(
    docker_client: docker.DockerClient, run_sleeper: Callable[..., Container], unique_name: str
) -> None:
    image = docker_client.images.get(BARE)
    assert image.labels.get("dnetlab.test.image") == "1"

    container = run_sleeper(BARE, unique_name)

    result = container.exec_run("ping -c1 127.0.0.1")
    assert result.exit_code != 0, result.output

    result = container.exec_run(["sh", "-c", "echo shell-ok"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == b"shell-ok"

    # Not through the shell either, nor through the usual wrappers.
    for tool in ("ping", "ping6", "traceroute", "traceroute6", "nslookup", "nc", "wget"):
        result = container.exec_run(["sh", "-c", f"command -v {tool}"])
        assert result.exit_code != 0, (tool, result.output)
    for wrapped in ("timeout 2 ping -c1 127.0.0.1", "env ping -c1 127.0.0.1"):
        result = container.exec_run(["sh", "-c", wrapped])
        assert result.exit_code == 127, (wrapped, result.output)


def test_static_ips_on_a_user_bridge(
    docker_client: docker.DockerClient,
    run_sleeper: Callable[..., Container],
    unique_name: str,
    test_labels: dict[str, str],
) -> None:
    ipam = docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet=SUBNET, gateway=GATEWAY)]
    )
    network = docker_client.networks.create(
        unique_name, driver="bridge", ipam=ipam, labels=test_labels
    )
    try:
        hosts = {f"{unique_name}-a": "10.231.0.10", f"{unique_name}-b": "10.231.0.11"}
        containers = {}
        for name, address in hosts.items():
            endpoint = docker_client.api.create_endpoint_config(ipv4_address=address)
            containers[name] = run_sleeper(
                BUSYBOX,
                name,
                network=network.name,
                networking_config={network.name: endpoint},
            )

        for name, container in containers.items():
            container.reload()
            settings = container.attrs["NetworkSettings"]["Networks"][network.name]
            assert settings["IPAddress"] == hosts[name]

        (name_a, addr_a), (name_b, addr_b) = hosts.items()
        for src, dst in ((name_a, addr_b), (name_a, name_b), (name_b, addr_a), (name_b, name_a)):
            result = containers[src].exec_run(f"ping -c1 -W2 {dst}")
            assert result.exit_code == 0, (src, dst, result.output)
            assert b"1 packets received" in result.output
    finally:
        for container in docker_client.containers.list(all=True, filters={"network": network.id}):
            remove(container)
        network.remove()
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(network.id)
