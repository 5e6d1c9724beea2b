"""Helpers for lab tests: owned objects as the engine sees them, scenario files."""

from __future__ import annotations

import secrets
from pathlib import Path

import docker
from docker.models.containers import Container
from docker.models.networks import Network


def lab_name(prefix: str = "t") -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def owned_containers(client: docker.DockerClient, name: str) -> dict[str, Container]:
    found = client.containers.list(all=True, filters={"label": f"dnetlab.scenario={name}"})
    by_key: dict[str, Container] = {}
    for c in found:
        key = c.labels["dnetlab.key"]
        assert key not in by_key, f"two containers for key {key}"
        by_key[key] = c
    return by_key


def owned_networks(client: docker.DockerClient, name: str) -> dict[str, Network]:
    found = client.networks.list(filters={"label": f"dnetlab.scenario={name}"})
    return {n.attrs["Labels"]["dnetlab.key"]: n for n in found}


def ids(client: docker.DockerClient, name: str) -> dict[str, str]:
    return {k: c.id for k, c in owned_containers(client, name).items()}


def nothing_left(client: docker.DockerClient, name: str) -> bool:
    flt = {"label": f"dnetlab.scenario={name}"}
    return not client.containers.list(all=True, filters=flt) and not client.networks.list(
        filters=flt)


def address(container: Container, network: str) -> str | None:
    container.reload()
    ep = container.attrs["NetworkSettings"]["Networks"].get(network)
    return ep["IPAddress"] if ep else None


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def pair_lab(name: str, octet: int, probes: str) -> str:
    """c1 (.10) and c2 (.11) on one bridge `lan`, 10.233.OCTET.0/24, and `probes` (YAML
    list items, each on its own line, indented by two spaces)."""
    return f"""
version: 1
name: {name}
networks:
  lan: {{subnet: 10.233.{octet}.0/24}}
containers:
  c1: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.233.{octet}.10}}}}}}
  c2: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.233.{octet}.11}}}}}}
probes:
{probes}"""


def two_net_lab(name: str, *, extra: str = "", c2_command: str = "sleep infinity") -> str:
    """Three containers on two bridges; c2 is on both."""
    return f"""
version: 1
name: {name}
networks:
  front: {{subnet: 10.221.0.0/24}}
  back: {{subnet: 10.222.0.0/24}}
containers:
  c1:
    image: busybox
    command: sleep infinity
    networks: {{front: {{ipv4: 10.221.0.11}}}}
  c2:
    image: busybox
    command: {c2_command}
    networks:
      front: {{ipv4: 10.221.0.12, aliases: [web]}}
      back: {{ipv4: 10.222.0.12}}
  c3:
    image: busybox
    command: sleep infinity
    networks: {{back: {{ipv4: 10.222.0.13}}}}
{extra}"""
