"""The multi-host test bed of scripts/testbed.sh: Docker hosts in network
namespaces, each with its own engine and sshd, reached from here over ssh:// with
the SDK's paramiko transport. The bed is routed: odd hosts on 10.99.0.0/24, even
hosts on 10.99.1.0/24, a router namespace (10.99.0.253 | 10.99.1.253) between them.

The module's fixture runs ``scripts/testbed.sh up 6 --at-least``, which keeps a
healthy bed of 6 or more hosts as it is (about a second) and builds one of 6 otherwise
(``make test`` builds 6; ``make testbed HOSTS=N`` any size); the tests hold for every
host of the bed, however many. The bed is left up for the
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
MIN_HOSTS = 6  # what `make test` builds (Makefile HOSTS)

Host = dict[str, str]


def address(i: int) -> str:
    """Host i's address: 10.99.0.i when i is odd, 10.99.1.i when it is even."""
    return f"10.99.{(i + 1) % 2}.{i}"


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
    """The hosts of a bed of MIN_HOSTS or more hosts, from .testbed/hosts.json."""
    run_testbed("up", str(MIN_HOSTS), "--at-least")
    hosts: list[Host] = json.loads((REPO / ".testbed" / "hosts.json").read_text())["hosts"]
    assert len(hosts) >= MIN_HOSTS
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
    n = len(bed)
    assert [h["name"] for h in bed] == [f"h{i}" for i in range(1, n + 1)]
    for i, host in enumerate(bed, start=1):
        assert host == {
            "name": f"h{i}",
            "address": address(i),
            "socket": f"/run/dnetlab-testbed/h{i}/docker.sock",
            "ssh": f"ssh://root@{address(i)}",
        }
    env = (REPO / ".testbed" / "hosts.env").read_text().splitlines()
    assert env == [f"DNETLAB_TESTBED_H{i}={address(i)}" for i in range(1, n + 1)]


def test_each_host_answers_over_ssh(bed: list[Host],
                                    clients: dict[str, docker.APIClient]) -> None:
    assert sorted(clients) == sorted(f"h{i}" for i in range(1, len(bed) + 1))
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


def test_every_host_has_its_own_engine(bed: list[Host],
                                       infos: dict[str, dict[str, Any]]) -> None:
    ids = {name: info["ID"] for name, info in infos.items()}
    assert len(set(ids.values())) == len(bed), ids
    # The hosts share the machine's hostname: only the ID tells them apart.
    assert len({info["Name"] for info in infos.values()}) == 1


def test_hosts_default_bridges_differ(clients: dict[str, docker.APIClient]) -> None:
    """docker0 is 172.31.I.0/24 on host I: apart from each other and from the local engine's."""
    for i in range(1, len(clients) + 1):
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


def _traceroute(ns: str, to: str) -> list[str]:
    """The hops from namespace ns to address `to` (busybox traceroute, the bed's own
    addresses only)."""
    proc = subprocess.run(["nsenter", f"--net=/run/netns/{ns}", "busybox", "traceroute", "-n",
                           "-q", "1", "-w", "1", "-m", "4", to],
                          capture_output=True, text=True, timeout=30, check=True)
    return [line.split()[1] for line in proc.stdout.splitlines()[1:] if line.split()]


def test_hosts_of_different_subnets_are_two_hops_apart(bed: list[Host]) -> None:
    """h1 and h3 share 10.99.0.0/24: one hop. h2 sits on 10.99.1.0/24: the router, then
    h2, both ways."""
    assert _traceroute("dnl-h1", address(3)) == [address(3)]
    assert _traceroute("dnl-h1", address(2)) == ["10.99.0.253", address(2)]
    assert _traceroute("dnl-h2", address(3)) == ["10.99.1.253", address(3)]
    route = subprocess.run(["ip", "-n", "dnl-h2", "-4", "route"], capture_output=True,
                           text=True, check=True).stdout
    assert "10.99.0.0/24 via 10.99.1.253 dev eth0" in route and "default" not in route
    # this machine reaches h2 through the router too
    here = subprocess.run(["ip", "-4", "route", "get", address(2)], capture_output=True,
                          text=True, check=True).stdout
    assert "via 10.99.0.253 dev dnl-tb0" in here


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
