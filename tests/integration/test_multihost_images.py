"""An image brought to a host of a running multi-host lab leaves its swarm alone."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.integration.labtools import write
from tests.integration.test_multihost import _client, _dnetlab, _reset
from tests.integration.test_multihost import hosts as hosts  # a fixture, used by name

COPY_TAG = "busybox:dnetlab-copy"  # tagged on the local engine only: no test host has it


def _lab(extra: str = "") -> str:
    return f"""
version: 1
name: imgswarm
hosts:
  manager: {{engine: "ssh://root@10.99.0.1", swarm: manager, advertise_addr: 10.99.0.1}}
  worker: {{engine: "ssh://root@10.99.1.2", swarm: worker}}
networks:
  ovl: {{driver: overlay, subnet: 10.247.0.0/24}}
containers:
  a1: {{host: manager, image: busybox, command: sleep infinity,
        networks: {{ovl: {{ipv4: 10.247.0.10}}}}}}
  b1: {{host: worker, image: busybox, command: sleep infinity,
        networks: {{ovl: {{ipv4: 10.247.0.11}}}}}}
{extra}
probes:
  - {{type: ping, from: a1, to: b1, within: 10}}
"""


@pytest.fixture
def copy_tag(docker_client: docker.DockerClient) -> Iterator[str]:
    docker_client.images.get("busybox:latest").tag(COPY_TAG)
    yield COPY_TAG
    with contextlib.suppress(docker.errors.APIError):
        docker_client.images.remove(COPY_TAG)


def _node_ids(hosts: list[dict[str, str]]) -> list[str]:
    """Each host's swarm node ID: a new init or join would give a new one."""
    ids = []
    for h in hosts[:2]:
        c = _client(h)
        try:
            ids.append(c.info()["Swarm"]["NodeID"])
        finally:
            c.close()
    return ids


def test_up_that_copies_an_image_to_a_swarm_host_keeps_the_swarm(
        hosts: list[dict[str, str]], tmp_path: Path, copy_tag: str) -> None:
    _reset(hosts, images=False)
    try:
        first = write(tmp_path / "lab.yaml", _lab())
        up = _dnetlab(tmp_path, "up", first)
        assert up.returncode == 0, up.stderr
        before = _node_ids(hosts)
        assert all(before) and before[0] != before[1]

        extra = (f"  c1: {{host: worker, image: \"{copy_tag}\", command: sleep infinity, "
                 "networks: {ovl: {ipv4: 10.247.0.12}}}")
        second = write(tmp_path / "lab.yaml", _lab(extra))
        up = _dnetlab(tmp_path, "up", second)
        assert up.returncode == 0, up.stderr
        assert f"copying image {copy_tag} to host worker" in up.stderr
        # the image pull/copy once rebuilt the host's observed state without its swarm,
        # and the plan then tried to init and join a swarm the hosts were already in
        assert "init swarm" not in up.stderr and "join swarm" not in up.stderr, up.stderr
        assert _node_ids(hosts) == before
        verify = _dnetlab(tmp_path, "verify")
        assert verify.returncode == 0, verify.stdout
        assert _dnetlab(tmp_path, "down").returncode == 0
    finally:
        _dnetlab(tmp_path, "down")
        _reset(hosts, images=False)
        for h in hosts[:2]:  # the copied tag must not stay on the test hosts either
            c = _client(h)
            with contextlib.suppress(docker.errors.APIError):
                c.remove_image(COPY_TAG)
            c.close()
