"""Out-of-band changes and file edits are repaired with the least change."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from tests.integration.labtools import (
    address,
    ids,
    lab_name,
    owned_containers,
    owned_networks,
    two_net_lab,
    write,
)


@pytest.fixture
def lab(run_cli, lab_dir: Path, lab_names: list[str]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", two_net_lab(name))
    code, _, err = run_cli("up", path)
    assert code == 0, err
    return name, path


def _up(run_cli, path: str) -> str:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("up", path)
    assert code == 0, err
    return err  # the step lines go to stderr


def _converged(run_cli, path: str) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("plan", path)
    assert code == 0 and "is up to date: nothing to do" in out


def test_removed_container_is_recreated_and_others_untouched(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    owned_containers(docker_client, name)["c2"].remove(force=True)
    steps = _up(run_cli, path)
    assert f"create container {name}-c2 [local]: not found" in steps
    after = ids(docker_client, name)
    assert after["c1"] == before["c1"] and after["c3"] == before["c3"]
    assert after["c2"] != before["c2"]
    assert address(owned_containers(docker_client, name)["c2"], f"{name}-front") == "10.221.0.12"
    _converged(run_cli, path)


def test_stopped_container_is_started_not_recreated(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    owned_containers(docker_client, name)["c1"].stop(timeout=0)
    steps = _up(run_cli, path)
    assert "not running (exited)" in steps
    assert ids(docker_client, name) == before
    assert owned_containers(docker_client, name)["c1"].status == "running"
    _converged(run_cli, path)


def test_disconnected_container_is_reconnected_with_its_address(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    owned_networks(docker_client, name)["back"].disconnect(before["c2"])
    steps = _up(run_cli, path)
    assert f"connect {name}-c2 to {name}-back [local]: not connected to back" in steps
    assert ids(docker_client, name) == before
    assert address(owned_containers(docker_client, name)["c2"], f"{name}-back") == "10.222.0.12"
    _converged(run_cli, path)


def test_changed_address_is_put_back(run_cli, lab: tuple[str, str],  # type: ignore[no-untyped-def]
                                     docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    net = owned_networks(docker_client, name)["front"]
    net.disconnect(before["c1"])
    net.connect(before["c1"], ipv4_address="10.221.0.99")
    steps = _up(run_cli, path)
    assert "config drift: ipv4 of c1 on front" in steps
    assert ids(docker_client, name) == before
    assert address(owned_containers(docker_client, name)["c1"], f"{name}-front") == "10.221.0.11"
    _converged(run_cli, path)


def test_removed_network_is_recreated_and_its_containers_reconnected(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    back = owned_networks(docker_client, name)["back"]
    back.disconnect(before["c2"], force=True)
    back.disconnect(before["c3"], force=True)
    back.remove()
    steps = _up(run_cli, path)
    assert f"create network {name}-back [local]: not found" in steps
    assert ids(docker_client, name) == before  # containers kept, only reconnected
    cs = owned_containers(docker_client, name)
    assert address(cs["c2"], f"{name}-back") == "10.222.0.12"
    assert address(cs["c3"], f"{name}-back") == "10.222.0.13"
    _converged(run_cli, path)


def test_network_removed_under_a_stopped_container(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    owned_containers(docker_client, name)["c3"].stop(timeout=0)
    back = owned_networks(docker_client, name)["back"]
    back.disconnect(before["c2"], force=True)
    back.remove()  # c3 is stopped: Docker lets the network go, c3 still points at it
    steps = _up(run_cli, path)
    assert "was removed" in steps
    after = ids(docker_client, name)
    assert after["c1"] == before["c1"] and after["c2"] == before["c2"]
    assert owned_containers(docker_client, name)["c3"].status == "running"
    _converged(run_cli, path)


def test_file_edits_add_remove_change(run_cli, lab: tuple[str, str],  # type: ignore[no-untyped-def]
                                      docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    extra = """  c4:
    image: busybox
    command: sleep infinity
    networks: [back]
"""
    edited = two_net_lab(name, c2_command="sleep 100000").replace("  c3:\n", "  c3gone:\n")
    edited += extra
    write(Path(path), edited)
    code, out, _ = run_cli("plan", path)
    assert code == 0
    assert f"recreate container {name}-c2 [local]: config drift: command" in out
    assert f"remove container {name}-c3 [local]: not in scenario" in out
    assert f"create container {name}-c4 [local]: not found" in out
    assert f"create container {name}-c3gone [local]: not found" in out
    steps = _up(run_cli, path)
    assert "recreate container" in steps
    after = ids(docker_client, name)
    assert after["c1"] == before["c1"]  # untouched
    assert after["c2"] != before["c2"]  # recreated
    assert "c3" not in after and {"c3gone", "c4"} <= set(after)
    cmd = owned_containers(docker_client, name)["c2"].attrs["Config"]["Cmd"]
    assert cmd == ["sleep", "100000"]
    _converged(run_cli, path)


def test_container_joins_another_network_without_recreation(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    write(Path(path), two_net_lab(name).replace(
        "networks: {front: {ipv4: 10.221.0.11}}",
        "networks: {front: {ipv4: 10.221.0.11}, back: {ipv4: 10.222.0.11}}"))
    steps = _up(run_cli, path)
    assert f"connect {name}-c1 to {name}-back" in steps
    assert ids(docker_client, name) == before
    assert address(owned_containers(docker_client, name)["c1"], f"{name}-back") == "10.222.0.11"
    # and leaves it again
    write(Path(path), two_net_lab(name))
    steps = _up(run_cli, path)
    assert f"disconnect {name}-c1 from {name}-back" in steps
    assert address(owned_containers(docker_client, name)["c1"], f"{name}-back") is None
    assert ids(docker_client, name) == before


def test_changed_subnet_recreates_the_network_and_keeps_containers(  # type: ignore[no-untyped-def]
        run_cli, lab: tuple[str, str], docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    write(Path(path), two_net_lab(name).replace("back: {subnet: 10.222.0.0/24}",
                                                "back: {subnet: 10.222.0.0/24, mtu: 1400}"))
    steps = _up(run_cli, path)
    assert f"recreate network {name}-back [local]: config drift: mtu" in steps
    assert ids(docker_client, name) == before
    back = owned_networks(docker_client, name)["back"]
    assert back.attrs["Options"]["com.docker.network.driver.mtu"] == "1400"
    assert address(owned_containers(docker_client, name)["c3"], f"{name}-back") == "10.222.0.13"
    _converged(run_cli, path)


def test_paused_container_is_unpaused(run_cli, lab: tuple[str, str],  # type: ignore[no-untyped-def]
                                      docker_client: docker.DockerClient) -> None:
    name, path = lab
    before = ids(docker_client, name)
    owned_containers(docker_client, name)["c3"].pause()
    steps = _up(run_cli, path)
    assert f"unpause container {name}-c3 [local]: paused" in steps
    assert ids(docker_client, name) == before
    assert owned_containers(docker_client, name)["c3"].status == "running"
    _converged(run_cli, path)


def test_default_bridge_placement_is_kept_and_edited(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    plain = (f"version: 1\nname: {name}\nnetworks:\n  lan: {{subnet: 10.230.0.0/24}}\n"
             "containers:\n  solo: {image: busybox, command: sleep infinity}\n")
    path = write(lab_dir / "s.yaml", plain)
    assert run_cli("up", path)[0] == 0
    solo = owned_containers(docker_client, name)["solo"]
    docker_client.networks.get("bridge").disconnect(solo.id)
    steps = _up(run_cli, path)
    assert "not connected to Docker's default bridge" in steps
    assert address(owned_containers(docker_client, name)["solo"], "bridge")
    assert ids(docker_client, name)["solo"] == solo.id
    # moving to the scenario's network places it as a fresh `up` would: lan only
    write(Path(path), plain.replace("command: sleep infinity}", "command: sleep infinity, "
                                    "networks: [lan]}"))
    _up(run_cli, path)
    moved = owned_containers(docker_client, name)["solo"]
    moved.reload()
    assert set(moved.attrs["NetworkSettings"]["Networks"]) == {f"{name}-lan"}
    _converged(run_cli, path)
