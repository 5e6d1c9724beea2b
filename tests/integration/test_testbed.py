"""The multi-host test bed of scripts/testbed.sh: Docker hosts in network
namespaces (10.99.0.1..), each with its own engine and sshd, reached from here
over ssh:// with the SDK's paramiko transport.

The module's fixture runs ``scripts/testbed.sh up 3``, which keeps a healthy bed
as it is (about a second) and builds one otherwise. The bed is left up for the
tests that come after; ``make testbed-down`` clears it. Traffic goes only to the
bed's own addresses.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import paramiko
import pytest
from docker.transport import SSHHTTPAdapter

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "testbed.sh"
HOSTS = 3

Host = dict[str, str]


def run_testbed(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs scripts/testbed.sh; a failure ends the test with its output."""
    proc = subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"scripts/testbed.sh {' '.join(args)} exited {proc.returncode}:\n"
            f"{proc.stdout}{proc.stderr}",
            pytrace=False,
        )
    return proc


@pytest.fixture(scope="module")
def bed() -> list[Host]:
    """The hosts of a bed of HOSTS hosts, from .testbed/hosts.json."""
    run_testbed("up", str(HOSTS))
    hosts: list[Host] = json.loads((REPO / ".testbed" / "hosts.json").read_text())["hosts"]
    return hosts


def ssh_client(host: Host, **kwargs: Any) -> docker.APIClient:
    """A low-level client over ssh:// with paramiko (not the ssh command)."""
    return docker.APIClient(
        base_url=host["ssh"], version="auto", use_ssh_client=False, timeout=30, **kwargs
    )


@pytest.fixture(scope="module")
def clients(bed: list[Host]) -> Iterator[dict[str, docker.APIClient]]:
    """A client over ssh:// for every host, by host name (one SSH login each)."""
    result: dict[str, docker.APIClient] = {}
    try:
        for host in bed:
            result[host["name"]] = ssh_client(host)
        yield result
    finally:
        for client in result.values():
            client.close()


@pytest.fixture(scope="module")
def infos(clients: dict[str, docker.APIClient]) -> dict[str, dict[str, Any]]:
    """``info()`` of every host, read over ssh://, by host name."""
    return {name: client.info() for name, client in clients.items()}


def test_hosts_files_describe_the_bed(bed: list[Host]) -> None:
    assert [h["name"] for h in bed] == [f"h{i}" for i in range(1, HOSTS + 1)]
    for i, host in enumerate(bed, start=1):
        assert host == {
            "name": f"h{i}",
            "address": f"10.99.0.{i}",
            "socket": f"/run/dnetlab-testbed/h{i}/docker.sock",
            "ssh": f"ssh://root@10.99.0.{i}",
        }
    env = (REPO / ".testbed" / "hosts.env").read_text().splitlines()
    assert env == [f"DNETLAB_TESTBED_H{i}=10.99.0.{i}" for i in range(1, HOSTS + 1)]


def test_each_host_answers_over_ssh(clients: dict[str, docker.APIClient]) -> None:
    assert sorted(clients) == [f"h{i}" for i in range(1, HOSTS + 1)]
    for client in clients.values():
        # paramiko, not a spawned ssh command: the SDK's own transport.
        assert isinstance(client.adapters["http+docker://ssh"], SSHHTTPAdapter)
        assert client.version()["ApiVersion"] == "1.41"
        assert client.ping()


def test_ssh_reaches_that_hosts_own_engine(
    bed: list[Host], infos: dict[str, dict[str, Any]]
) -> None:
    """`SetEnv DOCKER_HOST` in each sshd: over SSH, the engine of that very host."""
    for host in bed:
        local = docker.APIClient(base_url=f"unix://{host['socket']}", version="auto")
        try:
            assert local.info()["ID"] == infos[host["name"]]["ID"]
        finally:
            local.close()


def test_every_host_has_its_own_engine(infos: dict[str, dict[str, Any]]) -> None:
    ids = {name: info["ID"] for name, info in infos.items()}
    assert len(set(ids.values())) == HOSTS, ids
    # The hosts share the machine's hostname: only the ID tells them apart.
    assert len({info["Name"] for info in infos.values()}) == 1


def test_hosts_default_bridges_differ(clients: dict[str, docker.APIClient]) -> None:
    """docker0 is 172.31.I.0/24 on host I: apart from each other and from the local engine's."""
    for i in range(1, HOSTS + 1):
        config = clients[f"h{i}"].inspect_network("bridge")["IPAM"]["Config"]
        assert [c["Subnet"] for c in config] == [f"172.31.{i}.0/24"]


def test_hosts_reach_each_other_over_the_bridge(bed: list[Host]) -> None:
    """From inside h1's namespace, every other host's sshd takes a TCP connection."""
    for host in bed[1:]:
        proc = subprocess.run(
            [
                "nsenter",
                "--net=/run/netns/dnl-h1",
                "timeout",
                "5",
                "bash",
                "-c",
                f"exec 3<>/dev/tcp/{host['address']}/22",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"h1 -> {host['address']}:22: {proc.stderr}"


def test_host_without_sshd_gives_a_connection_error(bed: list[Host]) -> None:
    host = bed[1]
    run_testbed("stop-sshd", "2")
    try:
        with pytest.raises(paramiko.ssh_exception.NoValidConnectionsError):
            ssh_client(host)
    finally:
        run_testbed("start-sshd", "2")
    client = ssh_client(host)
    try:
        assert client.ping()
    finally:
        client.close()
