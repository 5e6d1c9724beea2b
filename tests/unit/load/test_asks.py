"""Every capability a shared file can ask for is found in one place, located, and an
approval covers exactly the set of asks it was given for."""

from __future__ import annotations

from pathlib import Path

import pytest

from dnetlab.load.asks import asks, asks_hash
from dnetlab.load.pipeline import load

HOSTILE = """version: 1
name: greedy
containers:
  a:
    image: busybox
    privileged: true
    cap_add: [NET_ADMIN, ALL]
    volumes: ["/:/host", "/var/run/docker.sock:/var/run/docker.sock", "/root/.ssh:/k:ro",
              "named:/data"]
    ports: ["1-1000:1-1000", "127.0.0.1:8080:80", "0.0.0.0:9090:90/udp"]
    restart: always
  b: {image: busybox, network_mode: host}
  c: {image: busybox, cap_add: [NET_RAW, net_admin]}
probes:
  - {type: exec, on: "host:local", command: "id"}
  - {type: exec, on: a, command: "id"}
"""


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "s.yaml"
    f.write_text(text)
    return load(str(f))


def test_every_ask_of_a_hostile_file_is_found_and_located(tmp_path: Path) -> None:
    loaded = _load(tmp_path, HOSTILE)
    assert [a.key() for a in loaded.asks] == [
        "privileged: container a runs privileged (every device and capability of the host)",
        "capability: container a adds capabilities ALL",
        "host-path: container a mounts the host path / at /host (read-write)",
        "host-path: container a mounts the host path /var/run/docker.sock at "
        "/var/run/docker.sock (read-write)",
        "host-path: container a mounts the host path /root/.ssh at /k (read-only)",
        "published-port: container a publishes port 1-1000/tcp on every address of host local",
        "published-port: container a publishes port 9090/udp on every address of host local",
        "host-network: container b uses the host's network namespace",
        "host-exec: probe 'exec host:local: id' runs a command in the network namespace of "
        "host local (in a helper container of image busybox)",
    ]
    lines = [i.format() for i in loaded.ask_issues]
    assert lines[0].startswith(f"{tmp_path}/s.yaml:6:17: containers.a.privileged: warning: asks:")
    assert any(":8:15: containers.a.volumes[0]: warning: asks:" in x for x in lines), lines
    assert lines[-1].split(": warning")[0].endswith(":15:5: probes[0]")
    assert all("dnetlab trust FILE" in x for x in lines)


def test_a_lab_without_asks_asks_nothing(tmp_path: Path) -> None:
    text = "version: 1\nname: calm\ncontainers:\n  c: {image: busybox, cap_add: [NET_ADMIN]}\n"
    assert _load(tmp_path, text).asks == ()


@pytest.mark.parametrize(("hosts", "expected"), [
    ('{h: {engine: "ssh://root@10.99.0.1"}}', ["remote-engine", "image-copy"]),
    ('{h: {engine: "tcp://127.0.0.1:2375"}}', ["remote-engine", "image-copy"]),
    ('{h: {engine: "unix:///var/run/docker.sock"}}', []),
    # with a local host in the lab, images come from there, not from outside the lab
    ('{h: {engine: "ssh://root@10.99.0.1"}, l: {engine: "unix:///var/run/docker.sock"}}',
     ["remote-engine"]),
])
def test_engines_and_image_copies(tmp_path: Path, hosts: str, expected: list[str]) -> None:
    text = f"version: 1\nname: far\nhosts: {hosts}\ncontainers:\n  c: {{image: busybox, host: h}}\n"
    assert [a.kind for a in _load(tmp_path, text).asks] == expected


def test_the_hash_covers_the_asks_not_their_order_or_place(tmp_path: Path) -> None:
    one = _load(tmp_path, HOSTILE).asks
    b = "  b: {image: busybox, network_mode: host}\n"
    moved = _load(tmp_path, HOSTILE.replace(b, "").replace("containers:\n", "containers:\n" + b))
    assert [a.path for a in one] != [a.path for a in moved.asks]
    assert asks_hash(one) == asks_hash(moved.asks)
    fewer = _load(tmp_path, HOSTILE.replace("privileged: true", "privileged: false")).asks
    assert asks_hash(fewer) != asks_hash(one)
    assert asks(_load(tmp_path, HOSTILE).scenario) == one
