"""`inventory`: the lab's containers as an Ansible inventory or JSON (spec section 10.6).

Every container with its host, engine and addresses per network, grouped per network and
per host, with the variables of Ansible's docker connection plugin (community.docker's
`docker`: it runs `docker exec` in the container, so no SSH server is needed in it). The
addresses are the live ones of running containers (read as `status` reads them) and the
declared static ones otherwise; the output says which, per container and for the lab.

The building is pure (scenario + live endpoints -> data): tests need no engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from dnetlab.model import DEFAULT_BRIDGE, Container, Host, Scenario

# community.docker's connection plugin over the docker CLI; ansible-core ships no docker
# plugin (its connections are local, ssh, paramiko, psrp, winrm): install the collection
# with `ansible-galaxy collection install community.docker`
CONNECTION = "community.docker.docker"
INVENTORY_SUFFIX = ".inventory.yaml"

Source = Literal["live", "declared"]


@dataclass(frozen=True)
class Address:
    ipv4: str | None
    ipv6: str | None


@dataclass(frozen=True)
class LiveContainer:
    """What `status` read of one container: its state and (network name, ipv4, ipv6)."""

    state: str
    endpoints: tuple[tuple[str, str | None, str | None], ...]


@dataclass(frozen=True)
class Entry:
    key: str
    name: str  # its Docker name: what the docker connection plugin connects to
    host: str
    engine: str | None  # the host's engine URL as declared; None: the local engine
    state: str  # running, exited, ..., "missing", or "unknown" (not read)
    source: Source
    networks: tuple[tuple[str, Address], ...]  # network key (or Docker's name) -> address
    network_mode: str | None


@dataclass(frozen=True)
class Inventory:
    lab: str
    instance: str | None
    hosts: tuple[Host, ...]
    entries: tuple[Entry, ...]
    network_members: tuple[tuple[str, tuple[str, ...]], ...]  # network key -> containers

    @property
    def source(self) -> str:
        """live, declared, or mixed (some containers are not running)."""
        kinds = {e.source for e in self.entries}
        return kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "declared")


def _declared(c: Container) -> tuple[tuple[str, Address], ...]:
    return tuple((a.network, Address(str(a.ipv4) if a.ipv4 else None,
                                     str(a.ipv6) if a.ipv6 else None))
                 for a in c.attachments)


def build(sc: Scenario, live: Mapping[str, LiveContainer] | None = None,
          instance: str | None = None) -> Inventory:
    """The inventory of `sc`; `live`: container key -> what was read of it (None: nothing
    read, every address as declared). A running container's addresses are the live ones."""
    key_of = {n.name: n.key for n in sc.networks}
    entries = []
    for c in sc.containers:
        seen = (live or {}).get(c.key)
        host = sc.host(c.host)
        mode = c.network_mode or (DEFAULT_BRIDGE if c.on_default_bridge else None)
        if seen is not None and seen.state == "running":
            order = {a.network: i for i, a in enumerate(c.attachments)}
            nets = tuple(sorted(
                ((key_of.get(name, name), Address(v4 or None, v6 or None))
                 for name, v4, v6 in seen.endpoints),
                key=lambda kv: order.get(kv[0], len(order))))  # the file's order first
            source: Source = "live"
        else:
            nets, source = _declared(c), "declared"
        state = seen.state if seen is not None else ("missing" if live is not None
                                                     else "unknown")
        entries.append(Entry(c.key, c.name, c.host, host.engine, state, source, nets, mode))
    members = tuple((n.key, tuple(c.key for c in sc.containers if c.attachment(n.key)))
                    for n in sc.networks)
    return Inventory(sc.name, instance, sc.hosts, tuple(entries), members)


def live_from_status(st: Any) -> dict[str, LiveContainer]:
    """The live part of a `status` (dnetlab.lab.status.LabStatus) for `build`."""
    return {c.key: LiveContainer(c.state, tuple((e.network, e.ipv4, e.ipv6)
                                                for e in c.endpoints))
            for c in st.containers}


_GROUP_BAD = re.compile(r"[^A-Za-z0-9_]")


def group_name(prefix: str, key: str) -> str:
    """An Ansible group name (letters, digits, underscores: Ansible warns on others)."""
    return f"{prefix}_{_GROUP_BAD.sub('_', key)}"


def _addresses(entry: Entry) -> dict[str, dict[str, str | None]]:
    return {net: {"ipv4": a.ipv4, "ipv6": a.ipv6} for net, a in entry.networks}


def as_json(inv: Inventory) -> dict[str, Any]:
    engines = {h.key: h.engine for h in inv.hosts}
    return {
        "lab": inv.lab,
        "instance": inv.instance,
        "addresses": inv.source,
        "hosts": {h.key: {"engine": h.engine,
                          "containers": [e.key for e in inv.entries if e.host == h.key]}
                  for h in inv.hosts},
        "networks": {k: {"containers": list(m)} for k, m in inv.network_members},
        "containers": {
            e.key: {"name": e.name, "host": e.host, "engine": engines.get(e.host),
                    "state": e.state, "addresses": e.source, "network_mode": e.network_mode,
                    "networks": _addresses(e)}
            for e in inv.entries},
    }


def _host_vars(lab: str, e: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ansible_connection": CONNECTION,
        "ansible_host": e.name,
    }
    if e.engine:
        # the docker CLI that the plugin runs talks to the container's own engine
        out["ansible_docker_extra_args"] = f"-H {e.engine}"
    out.update({
        "dnetlab_lab": lab,
        "dnetlab_key": e.key,
        "dnetlab_host": e.host,
        "dnetlab_engine": e.engine,
        "dnetlab_state": e.state,
        "dnetlab_addresses": e.source,
        "dnetlab_networks": _addresses(e),
    })
    for net, a in e.networks:  # the first IPv4 address as the usual fact-like shortcut
        if a.ipv4:
            out.setdefault("dnetlab_ipv4", a.ipv4)
            out.setdefault(f"dnetlab_ipv4_{_GROUP_BAD.sub('_', net)}", a.ipv4)
    return out


def as_ansible(inv: Inventory) -> dict[str, Any]:
    """Ansible's YAML inventory: every container a host of the group `all`, with groups
    `lab_<lab>`, `host_<host key>` and `net_<network key>`."""
    hosts = {e.key: _host_vars(inv.lab, e) for e in inv.entries}
    children: dict[str, Any] = {group_name("lab", inv.lab): {
        "hosts": {e.key: None for e in inv.entries}}}
    for h in inv.hosts:
        members = [e.key for e in inv.entries if e.host == h.key]
        children[group_name("host", h.key)] = {
            "hosts": dict.fromkeys(members), "vars": {"dnetlab_engine": h.engine}}
    for key, members_t in inv.network_members:
        children[group_name("net", key)] = {"hosts": dict.fromkeys(members_t)}
    return {"all": {"vars": {"dnetlab_addresses": inv.source}, "hosts": hosts,
                    "children": children}}


def ansible_text(inv: Inventory) -> str:
    head = (f"# Ansible inventory of dnetlab lab {inv.lab}: addresses are {inv.source}"
            " (live: read from the running containers; declared: the file's static ones)\n"
            f"# connection: {CONNECTION} (ansible-galaxy collection install "
            "community.docker)\n")
    # libyaml's emitter writes the same text as PyYAML's pure Python one, about 15 times
    # faster (0.5 s for 500 containers: the most of a no-op `up` of that lab)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return head + yaml.dump(as_ansible(inv), Dumper=dumper, sort_keys=False,
                            default_flow_style=False)


def inventory_path(lab: str, root: Path | None = None) -> Path:
    from dnetlab.lab.records import RECORD_DIR, check_name

    return (root or Path.cwd()) / RECORD_DIR / f"{check_name(lab)}{INVENTORY_SUFFIX}"


def write(inv: Inventory, root: Path | None = None) -> Path:
    """Write the Ansible inventory beside the lab's record: 0600, through no symlink."""
    from dnetlab.lab.records import RECORD_DIR
    from dnetlab.lab.userconfig import private_dir, write_private

    private_dir((root or Path.cwd()) / RECORD_DIR)
    path = inventory_path(inv.lab, root)
    write_private(path, ansible_text(inv))
    return path
