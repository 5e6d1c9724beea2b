"""The capabilities a scenario asks for: the one place that says what a shared file may do
to the machine of the person who runs it (spec 10.4).

A file asks when it declares any of: a privileged container; capabilities beyond
NET_ADMIN and NET_RAW; a volume from a host path; the host's network; a port published on
every address; an `exec` probe or step action on a host; an engine other than a local
socket; an image that `up` may copy from the local engine to another host. `validate` and
`plan` show each as a located warning; `up` and `verify` refuse a file whose asks the user
has not approved (see `dnetlab.lab.trust`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from dnetlab.load.yamlload import Path
from dnetlab.model import Container, Scenario
from dnetlab.probes.registry import Probe

HARMLESS_CAPS = frozenset({"NET_ADMIN", "NET_RAW"})  # what a network lab needs, namespaced


@dataclass(frozen=True)
class Ask:
    kind: str  # privileged, capability, host-path, host-network, published-port,
    #            host-exec, remote-engine, image-copy
    what: str  # one line a person can judge, naming the object
    path: Path  # where in the file, for a located warning

    def key(self) -> str:
        """What an approval covers: the ask itself, not where it stands in the file."""
        return f"{self.kind}: {self.what}"


def _container_asks(c: Container) -> list[Ask]:
    at: Path = ("containers", c.key)
    found: list[Ask] = []
    if c.privileged:
        found.append(Ask("privileged", f"container {c.key} runs privileged (every device "
                         "and capability of the host)", (*at, "privileged")))
    extra = sorted({cap.upper().removeprefix("CAP_") for cap in c.cap_add} - HARMLESS_CAPS)
    if extra:
        found.append(Ask("capability", f"container {c.key} adds capabilities "
                         f"{', '.join(extra)}", (*at, "cap_add")))
    for i, v in enumerate(c.volumes):
        if v.source.startswith(("/", ".", "~")):
            mode = "read-only" if v.read_only else "read-write"
            found.append(Ask("host-path", f"container {c.key} mounts the host path "
                             f"{v.source} at {v.target} ({mode})", (*at, "volumes", i)))
    if c.network_mode == "host":
        found.append(Ask("host-network", f"container {c.key} uses the host's network "
                         "namespace", (*at, "network_mode")))
    for i, p in enumerate(c.ports):
        if p.host_ip is None or p.host_ip in ("0.0.0.0", "::"):
            ports = str(p.host_port or p.container_port)
            if p.host_port_end:
                ports += f"-{p.host_port_end}"
            found.append(Ask("published-port", f"container {c.key} publishes port {ports}/"
                             f"{p.protocol} on every address of host {c.host}",
                             (*at, "ports", i)))
    return found


def _image_copy_asks(sc: Scenario) -> list[Ask]:
    """`up` copies an image a remote host lacks from the local engine when no host of the
    lab is local: one ask per image and host, at the first container that uses it."""
    if any(h.is_local for h in sc.hosts):
        return []
    found: dict[tuple[str, str], Ask] = {}
    for c in sc.containers:
        found.setdefault((c.image, c.host), Ask(
            "image-copy", f"image {c.image} may be copied from the local engine to host "
            f"{c.host} (docker save here, docker load there) when that host lacks it",
            ("containers", c.key, "image")))
    return list(found.values())


def asks(sc: Scenario) -> tuple[Ask, ...]:
    """Every capability the scenario asks for, in file order."""
    found: list[Ask] = []
    for h in sc.hosts:
        if not h.is_local:
            found.append(Ask("remote-engine", f"host {h.key} is the Docker engine at "
                             f"{h.engine}: dnetlab connects to it and changes it",
                             ("hosts", h.key, "engine")))
    for c in sc.containers:
        found += _container_asks(c)
    found += _image_copy_asks(sc)
    found += _probe_asks(sc, sc.probes, ("probes",))
    for s in sc.steps:
        at: Path = ("steps", s.index)
        for a in s.actions:
            if a.kind == "exec" and a.on is not None and a.on.startswith("host:"):
                found.append(Ask("host-exec", f"step {s.name!r} runs a command in the network "
                                 f"namespace of host {a.on.removeprefix('host:')} (in a "
                                 f"helper container of image {sc.probe_image})",
                                 (*at, "do", a.index)))
        # a `use` of a top-level probe asks what that probe asked already: once is enough
        asked = {a.key() for a in found}
        found += [a for a in _probe_asks(sc, s.probes, (*at, "probes"))
                  if a.key() not in asked]
    return tuple(found)


def _probe_asks(sc: Scenario, probes: tuple[Probe, ...], at: Path) -> list[Ask]:
    """`at`: the path of the list that holds them."""
    found = []
    for p in probes:
        on = getattr(p, "on", None)
        if p.type == "exec" and isinstance(on, str) and on.startswith("host:"):
            found.append(Ask("host-exec", f"probe {p.name!r} runs a command in the network "
                             f"namespace of host {on.removeprefix('host:')} (in a helper "
                             f"container of image {sc.probe_image})", (*at, p.index)))
    return found


def asks_hash(found: tuple[Ask, ...]) -> str:
    """The approval's key: the same asks in any order or position hash the same."""
    text = json.dumps(sorted({a.key() for a in found}))
    return hashlib.sha256(text.encode()).hexdigest()
