"""Labs go up and down on the real engine, idempotently, with or without the file."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from tests.integration.labtools import (
    address,
    ids,
    lab_name,
    nothing_left,
    owned_containers,
    owned_networks,
    two_net_lab,
    write,
)

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ["none", "host", "bridge", "static-ip", "isolation", "links"]


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_scenario_goes_up_idempotently_and_down(seed: str, run_cli, lab_dir: Path,  # type: ignore[no-untyped-def]
                                                     lab_names: list[str],
                                                     docker_client: docker.DockerClient) -> None:
    lab_names.append(seed)
    path = str(ROOT / "scenarios" / f"{seed}.yaml")
    code, out, err = run_cli("up", path)
    assert code == 0, err
    assert f"lab {seed} is up:" in out
    first = ids(docker_client, seed)
    assert first and all(c.status == "running"
                         for c in owned_containers(docker_client, seed).values())
    code, out, _ = run_cli("up", path)
    assert code == 0 and f"lab {seed} is up to date" in out
    assert ids(docker_client, seed) == first  # nothing recreated
    code, out, _ = run_cli("down")
    assert code == 0 and f"lab {seed} is down" in out
    assert nothing_left(docker_client, seed)
    assert not (lab_dir / ".dnetlab" / f"{seed}.json").exists()


def test_static_addresses_aliases_and_labels(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                             docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    code, _, err = run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))
    assert code == 0, err
    cs = owned_containers(docker_client, name)
    assert address(cs["c2"], f"{name}-front") == "10.221.0.12"
    assert address(cs["c2"], f"{name}-back") == "10.222.0.12"
    labels = cs["c1"].labels
    assert labels["dnetlab.scenario"] == name and labels["dnetlab.key"] == "c1"
    assert len(labels["dnetlab.config-hash"]) == 16 and labels["dnetlab.version"]
    nets = owned_networks(docker_client, name)
    assert set(nets) == {"front", "back"}
    assert nets["front"].attrs["IPAM"]["Config"][0]["Subnet"] == "10.221.0.0/24"
    # the key and the declared aliases resolve on the user-defined network
    res = cs["c1"].exec_run(["nslookup", "web", "127.0.0.11"])
    assert b"10.221.0.12" in res.output
    res = cs["c1"].exec_run(["nslookup", "c2", "127.0.0.11"])
    assert b"10.221.0.12" in res.output
    assert cs["c1"].attrs["HostConfig"]["Init"] is True


def test_down_without_file_after_edit_and_after_delete(run_cli, lab_dir: Path,  # type: ignore[no-untyped-def]
                                                       lab_names: list[str],
                                                       docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", two_net_lab(name))
    assert run_cli("up", path)[0] == 0
    # the file loses c3 and network back: down must still remove them (labels, not file)
    write(lab_dir / "s.yaml", two_net_lab(name).replace("  c3:", "  c3x:"))
    code, _, err = run_cli("down")
    assert code == 0, err
    assert nothing_left(docker_client, name)
    assert run_cli("up", path)[0] == 0
    Path(path).unlink()
    code, _, err = run_cli("down")
    assert code == 0, err
    assert nothing_left(docker_client, name)


def test_down_sweeps_labelled_objects_missing_from_the_record(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))[0] == 0
    # this copy of the lab's, by its labels (name and instance), though no record names it
    instance = json.loads((lab_dir / ".dnetlab" / f"{name}.json").read_text())["instance"]
    stray = docker_client.containers.run(
        "busybox", "sleep 300", detach=True, name=f"{name}-stray",
        labels={"dnetlab.scenario": name, "dnetlab.instance": instance, "dnetlab.key": "stray"})
    foreign = docker_client.containers.run("busybox", "sleep 300", detach=True,
                                           labels={"dnetlab.test": "1"})
    try:
        assert run_cli("down")[0] == 0
        assert nothing_left(docker_client, name)
        with pytest.raises(docker.errors.NotFound):
            stray.reload()
        foreign.reload()  # not ours: untouched
        assert foreign.status == "running"
    finally:
        foreign.remove(force=True)


def test_several_labs_need_a_name(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                  docker_client: docker.DockerClient) -> None:
    a, b = lab_name("a"), lab_name("b")
    lab_names.extend([a, b])
    one = ("version: 1\nname: {n}\ncontainers:\n"
           "  x: {{image: busybox, command: sleep infinity}}\n")
    assert run_cli("up", write(lab_dir / "a.yaml", one.format(n=a)))[0] == 0
    assert run_cli("up", write(lab_dir / "b.yaml", one.format(n=b)))[0] == 0
    code, _, err = run_cli("down")
    assert code == 2 and "-n NAME" in err and a in err and b in err
    code, out, _ = run_cli("ls")
    assert code == 0 and a in out and b in out and "up" in out
    assert run_cli("down", "-n", a)[0] == 0
    assert nothing_left(docker_client, a) and not nothing_left(docker_client, b)
    assert run_cli("down")[0] == 0  # one left: no name needed
    assert nothing_left(docker_client, b)


def test_status_json_shows_addresses_and_drift(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                               docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))[0] == 0
    code, out, _ = run_cli("status", "--format", "json")
    st = json.loads(out)
    assert code == 0 and st["up_to_date"] is True and st["scenario"] == name
    c2 = next(c for c in st["containers"] if c["key"] == "c2")
    assert {e["ipv4"] for e in c2["networks"]} == {"10.221.0.12", "10.222.0.12"}
    assert all(e["mac"] for e in c2["networks"])
    owned_containers(docker_client, name)["c3"].stop(timeout=0)
    st = json.loads(run_cli("status", "--format", "json")[1])
    c3 = next(c for c in st["containers"] if c["key"] == "c3")
    assert st["up_to_date"] is False and c3["state"] == "exited"
    assert c3["drift"] == [f"start container {name}-c3 [local]: not running (exited)"]
    code, out, _ = run_cli("status")
    assert code == 0 and "exited" in out and "1 pending change" in out


def test_exec_runs_in_the_container_and_returns_its_exit_code(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str]) -> None:
    name = lab_name()
    lab_names.append(name)
    assert run_cli("up", write(lab_dir / "s.yaml", two_net_lab(name)))[0] == 0
    code, out, _ = run_cli("exec", "c2", "--", "ip", "-4", "-o", "addr")
    assert code == 0 and "10.221.0.12/24" in out and "10.222.0.12/24" in out
    code, _, _ = run_cli("exec", "c1", "--", "sh", "-c", "exit 7")
    assert code == 7
    code, _, err = run_cli("exec", "nope", "--", "true")
    assert code == 2 and "no container 'nope'" in err


def test_everything_a_container_can_declare(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                            docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    text = f"""
version: 1
name: {name}
networks:
  v6:
    subnet: 10.223.0.0/24
    gateway: 10.223.0.254
    ip_range: 10.223.0.128/25
    ipv6_subnet: fd00:223::/64
    mtu: 1400
    internal: true
    labels: {{team: net}}
containers:
  k:
    image: busybox
    command: ["sleep", "infinity"]
    hostname: kitchen
    env: {{A: "1", B: two}}
    labels: {{role: sink}}
    dns: [127.0.0.1]
    dns_search: [lab.internal]
    cap_add: [NET_ADMIN]
    sysctls: {{net.ipv4.ip_forward: "1"}}
    ports: ["127.0.0.1:18080:80/tcp"]
    volumes: ["{name}-data:/data", "/tmp:/hosttmp:ro"]
    restart: unless-stopped
    networks:
      v6: {{ipv4: 10.223.0.10, ipv6: "fd00:223::10", mac: "02:42:0a:df:00:0a"}}
"""
    path = write(lab_dir / "s.yaml", text)
    code, _, err = run_cli("up", path)
    assert code == 2 and "host path /tmp" in err, err  # a host mount is an ask
    code, _, err = run_cli("trust", path)
    assert code == 0, err
    code, _, err = run_cli("up", path)
    assert code == 0, err
    c = owned_containers(docker_client, name)["k"]
    hc, cfg = c.attrs["HostConfig"], c.attrs["Config"]
    ep = c.attrs["NetworkSettings"]["Networks"][f"{name}-v6"]
    assert ep["IPAddress"] == "10.223.0.10" and ep["GlobalIPv6Address"] == "fd00:223::10"
    assert ep["MacAddress"] == "02:42:0a:df:00:0a"
    assert cfg["Hostname"] == "kitchen" and "A=1" in cfg["Env"] and "B=two" in cfg["Env"]
    assert cfg["Labels"]["role"] == "sink"
    assert hc["Dns"] == ["127.0.0.1"] and hc["DnsSearch"] == ["lab.internal"]
    assert hc["CapAdd"] == ["NET_ADMIN"] and hc["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert hc["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]}
    assert f"{name}-data:/data:rw" in hc["Binds"] and "/tmp:/hosttmp:ro" in hc["Binds"]
    assert hc["RestartPolicy"]["Name"] == "unless-stopped"
    net = owned_networks(docker_client, name)["v6"].attrs
    assert net["Internal"] is True and net["EnableIPv6"] is True
    assert net["Options"]["com.docker.network.driver.mtu"] == "1400"
    assert net["Labels"]["team"] == "net"
    assert {"Subnet": "10.223.0.0/24", "Gateway": "10.223.0.254",
            "IPRange": "10.223.0.128/25"} in net["IPAM"]["Config"]
    res = c.exec_run(["ip", "link", "show", "eth0"])
    assert b"mtu 1400" in res.output
    # idempotent with all of that declared
    code, out, _ = run_cli("up", str(lab_dir / "s.yaml"))
    assert "up to date" in out
    # the named volume is the lab's: kept by down, removed by down --volumes
    assert docker_client.volumes.get(f"{name}-data").attrs["Labels"]["dnetlab.scenario"] == name
    assert run_cli("up", str(lab_dir / "s.yaml"))[0] == 0
    assert run_cli("down")[0] == 0
    docker_client.volumes.get(f"{name}-data")
    assert run_cli("up", str(lab_dir / "s.yaml"))[0] == 0
    assert run_cli("down", "--volumes")[0] == 0
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(f"{name}-data")


def test_unreachable_engine_is_exit_3(run_cli, lab_dir: Path,  # type: ignore[no-untyped-def]
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    text = "version: 1\nname: unreach\ncontainers:\n  a: {image: busybox}\n"
    code, _, err = run_cli("up", write(lab_dir / "s.yaml", text))
    assert code == 3
    assert "host 'local': cannot reach the Docker engine at unix:///nonexistent/docker.sock" in err
    assert "Traceback" not in err


def test_dry_run_prints_the_plan_and_changes_nothing(  # type: ignore[no-untyped-def]
        run_cli, lab_dir: Path, lab_names: list[str], docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    path = write(lab_dir / "s.yaml", two_net_lab(name))
    code, out, _ = run_cli("up", "--dry-run", path)
    assert code == 0
    assert out.splitlines() == [
        f"create network {name}-back [local]: not found",
        f"create network {name}-front [local]: not found",
        f"create container {name}-c1 [local]: not found",
        f"create container {name}-c2 [local]: not found",
        f"create container {name}-c3 [local]: not found",
        f"5 changes to lab {name}",
    ]
    assert nothing_left(docker_client, name)
    assert not (lab_dir / ".dnetlab" / f"{name}.json").exists()


def test_graceful_down_stops_then_removes(run_cli, lab_dir: Path, lab_names: list[str],  # type: ignore[no-untyped-def]
                                          docker_client: docker.DockerClient) -> None:
    name = lab_name()
    lab_names.append(name)
    text = (f"version: 1\nname: {name}\ncontainers:\n"
            "  a: {image: busybox, command: sleep infinity}\n")
    assert run_cli("up", write(lab_dir / "s.yaml", text))[0] == 0
    code, out, _ = run_cli("down", "--graceful")
    assert code == 0 and "is down" in out
    assert nothing_left(docker_client, name)
