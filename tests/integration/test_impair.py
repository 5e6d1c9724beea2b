"""Impairments on the real engine (a kernel with tbf and iptables' statistic match, and
without sch_netem): the rate and the loss hold as measured, a qdisc or rule removed by
hand is drift that `up` puts back without recreating the container, a delay is refused.

The measured figures are printed (`-s` shows them) and kept in the test's asserts."""

from __future__ import annotations

import re
import time
from pathlib import Path

import docker
import pytest

from dnetlab.engine.impair import TOOLS_IMAGE
from tests.integration.labtools import ids, lab_name, nothing_left, owned_containers, write

SIZE = 1024 * 1024  # bytes the client fetches


def _lab(name: str, srv_impair: str = "{rate: 1mbit}", cli_impair: str = "{loss: 30}",
         net_impair: str = "") -> str:
    return f"""
version: 1
name: {name}
networks:
  lan: {{subnet: 10.231.0.0/24{net_impair}}}
containers:
  srv:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && dd if=/dev/zero of=/www/f bs=1024 count=1024
      2>/dev/null && exec httpd -f -p 80 -h /www"]
    networks: {{lan: {{ipv4: 10.231.0.10, impair: {srv_impair}}}}}
  cli:
    image: busybox
    command: sleep infinity
    networks: {{lan: {{ipv4: 10.231.0.20, impair: {cli_impair}}}}}
"""


@pytest.fixture(scope="module", autouse=True)
def _tools_image(docker_client: docker.DockerClient) -> None:
    try:
        docker_client.images.get(TOOLS_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{TOOLS_IMAGE} is missing: run scripts/nettools-image.sh (make engine)",
                    pytrace=False)


@pytest.fixture
def lab(run_cli, lab_dir: Path, lab_names: list[str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    name = lab_name("imp")
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", _lab(name))
    code, _, err = run_cli("up", path)
    assert code == 0, err
    assert f"impair {name}-srv on {name}-lan [local]: new interface (rate 1mbit)" in err
    return name, path


def _in_ns(client: docker.DockerClient, container_id: str, script: str) -> str:
    out = client.containers.run(TOOLS_IMAGE, ["sh", "-c", script], remove=True,
                                network_mode=f"container:{container_id}", cap_add=["NET_ADMIN"],
                                labels={"dnetlab.test": "1"})
    return out.decode() if isinstance(out, bytes) else str(out)


def _plan(run_cli, path: str) -> str:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("plan", path)
    assert code == 0, err
    return out


def test_rate_limits_a_1mb_transfer(lab: tuple[str, str],  # type: ignore[no-untyped-def]
                                    docker_client: docker.DockerClient) -> None:
    name, _ = lab
    cli = owned_containers(docker_client, name)["cli"]
    # the client's own egress loses 30 % (its ACKs): take the loss off for the timing
    _in_ns(docker_client, cli.id, "tc qdisc del dev eth0 root")
    for _ in range(50):  # httpd is up once its file is there
        if cli.exec_run(["wget", "-q", "-O", "/dev/null", "http://10.231.0.10/nothing"]
                        ).exit_code != 0 and "f" in owned_containers(docker_client, name)[
                            "srv"].exec_run(["ls", "/www"]).output.decode():
            break
        time.sleep(0.1)
    started = time.monotonic()
    res = cli.exec_run(["wget", "-q", "-O", "/dev/null", "http://10.231.0.10/f"])
    took = time.monotonic() - started
    assert res.exit_code == 0, res.output
    implied = SIZE * 8 / 1_000_000
    ratio = took / implied
    print(f"\nrate 1mbit: 1 MiB in {took:.2f}s, implied {implied:.2f}s, ratio {ratio:.3f}")
    assert 0.8 <= ratio <= 1.25


def test_loss_30_percent_over_200_pings(lab: tuple[str, str],  # type: ignore[no-untyped-def]
                                        docker_client: docker.DockerClient) -> None:
    name, _ = lab
    cli = owned_containers(docker_client, name)["cli"]
    res = cli.exec_run(["ping", "-c", "200", "-i", "0.02", "-W", "2", "10.231.0.10"])
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", res.output.decode())
    assert m, res.output
    sent, got = int(m[1]), int(m[2])
    loss = 100 * (sent - got) / sent
    print(f"\nloss 30: {sent - got} of {sent} pings lost ({loss:.1f} %)")
    assert sent == 200
    assert 20 <= loss <= 40


def test_removed_by_hand_is_drift_and_up_repairs_in_place(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    assert "is up to date" in _plan(run_cli, path)
    before = ids(docker_client, name)
    _in_ns(docker_client, before["srv"], "tc qdisc del dev eth0 root")
    _in_ns(docker_client, before["cli"], "tc qdisc del dev eth0 root")
    out = _plan(run_cli, path)
    assert f"impair {name}-srv on {name}-lan [local]: impairment missing (rate 1mbit)" in out
    assert f"impair {name}-cli on {name}-lan [local]: impairment missing (loss 30%)" in out
    code, st, _ = run_cli("status", "--format", "json", path)
    assert "impairment missing" in st
    # a root qdisc of another handle is not dnetlab's: still missing
    _in_ns(docker_client, before["srv"],
           "tc qdisc replace dev eth0 root tbf rate 3mbit burst 4000 latency 50ms")
    assert "[local]: impairment missing (rate 1mbit)" in _plan(run_cli, path)
    # dnetlab's handle with another rate: drift
    _in_ns(docker_client, before["srv"], "tc qdisc del dev eth0 root; tc qdisc add dev eth0 "
           "root handle d1: tbf rate 3mbit burst 4000 latency 50ms")
    assert f"impair {name}-srv on {name}-lan [local]: impairment drift: rate" in _plan(
        run_cli, path)
    code, _, err = run_cli("up", path)
    assert code == 0, err
    assert ids(docker_client, name) == before  # repaired in place, nothing recreated
    assert "is up to date" in _plan(run_cli, path)
    assert "rate 1Mbit" in _in_ns(docker_client, before["srv"], "tc qdisc show dev eth0")
    assert "blackhole" in _in_ns(docker_client, before["cli"], "tc qdisc show dev eth0")


def test_dropped_from_the_file_is_healed(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    write(Path(path), _lab(name, srv_impair="{}", cli_impair="{}"))
    out = _plan(run_cli, path)
    assert f"heal {name}-srv on {name}-lan [local]: impairment not in scenario" in out
    code, _, err = run_cli("up", path)
    assert code == 0, err
    assert ids(docker_client, name) == before
    assert "tbf" not in _in_ns(docker_client, before["srv"], "tc qdisc show dev eth0")
    assert "is up to date" in _plan(run_cli, path)
    code, _, err = run_cli("down", path)
    assert code == 0, err
    assert nothing_left(docker_client, name)


def test_delay_is_refused_by_preflight_naming_the_host(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient
) -> None:
    name = lab_name("imp")
    lab_names.append(name)
    path = write(lab_dir / "d.yaml", _lab(name, cli_impair="{delay: 20, jitter: 5}"))
    code, _, err = run_cli("up", path)
    assert code == 3, err
    assert "host local" in err and "sch_netem" in err and "cli on lan" in err
    assert "nothing was changed" in err
    assert nothing_left(docker_client, name)
