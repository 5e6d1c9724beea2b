"""What each host should run: the scenario turned into per-host object specs.

Pure: no engine is contacted. Each spec carries the labels it will be created with (the
lab's name and instance among them), including the hash of exactly the fields the user
declared, so that values the daemon fills in (default env, generated MACs, dynamic
addresses) never count as drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dnetlab import __version__, labels
from dnetlab.model import Attachment, Container, Impairment, Network, Pairs, Scenario


@dataclass(frozen=True)
class NetworkSpec:
    key: str
    name: str
    host: str
    driver: str
    labels: Pairs
    ipam: tuple[tuple[str, str | None, str | None], ...]  # (subnet, gateway, ip_range)
    ipv6: bool
    internal: bool
    attachable: bool
    options: Pairs
    config_hash: str
    config_fields: str


@dataclass(frozen=True)
class AttachmentSpec:
    network_key: str
    network_name: str
    ipv4: str | None
    ipv6: str | None
    aliases: tuple[str, ...]  # the container key first: always an alias (spec section 6)
    mac: str | None
    # egress impairment: not in the container's hash, since changing it is repaired in
    # the container's namespace, never by recreating the container
    impair: Impairment | None = None
    # on an external network (spec 10.2): connected when missing, but never disconnected;
    # the container is recreated instead
    external: bool = False


@dataclass(frozen=True)
class ExternalSpec:
    """An external network a container on this host uses: checked, never changed."""

    key: str
    name: str
    host: str
    subnet: str | None  # as the file declares it; None: not declared


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    host: str
    labels: Pairs


@dataclass(frozen=True)
class ContainerSpec:
    key: str
    name: str
    host: str
    image: str
    hostname: str
    command: tuple[str, ...] | None
    entrypoint: tuple[str, ...] | None
    network_mode: str | None  # none/host/bridge, or None for the scenario's networks
    attachments: tuple[AttachmentSpec, ...]  # the first is the one the container is created on
    env: Pairs
    labels: Pairs
    dns: tuple[str, ...]
    dns_search: tuple[str, ...]
    cap_add: tuple[str, ...]
    cap_drop: tuple[str, ...]
    privileged: bool
    sysctls: Pairs
    ports: tuple[tuple[str, str | None, int | None], ...]  # ("80/tcp", host_ip, host_port)
    binds: tuple[str, ...]  # "src:/dst:mode", or "/dst" for an anonymous volume
    restart: str | None
    init: bool
    mac: str | None
    config_hash: str
    config_fields: str
    # legacy links (`docker run --link`): (the linked container's Docker name, alias)
    links: tuple[tuple[str, str], ...] = ()
    linked: tuple[str, ...] = ()  # keys of the linked containers
    # how deep in the links: 0 links nothing; else one more than its deepest linked
    # container, so that `up` creates and starts it after them
    link_depth: int = 0
    extra_hosts: tuple[str, ...] = ()  # "name:address", as docker run --add-host


@dataclass(frozen=True)
class HostDesired:
    host: str
    networks: tuple[NetworkSpec, ...]
    containers: tuple[ContainerSpec, ...]
    volumes: tuple[VolumeSpec, ...]
    images: tuple[str, ...]
    # containers whose impairments are read back (docs/impairments.md): those that
    # should have one, and those the lab's previous `up` gave one
    impair_read: frozenset[str] = frozenset()
    # external networks the containers here use: they must exist here; never changed
    externals: tuple[ExternalSpec, ...] = ()

    @property
    def impaired(self) -> bool:
        return any(a.impair for c in self.containers for a in c.attachments)


def _network_fields(n: Network) -> dict[str, Any]:
    fields: dict[str, Any] = {"driver": n.driver}
    for name in ("subnet", "gateway", "ip_range", "ipv6_subnet", "ipv6_gateway", "mtu",
                 "parent"):
        value = getattr(n, name)
        if value is not None:
            fields[name] = str(value)
    if n.internal:
        fields["internal"] = True
    if n.driver == "overlay":
        fields["attachable"] = n.attachable
        fields["encrypted"] = n.encrypted
    if n.options:
        fields["options"] = list(n.options)
    if n.labels:
        fields["labels"] = list(n.labels)
    return fields


def network_spec(sc: Scenario, n: Network, host: str, instance: str) -> NetworkSpec:
    fields = _network_fields(n)
    options = dict(n.options)
    if n.mtu is not None:
        options.setdefault("com.docker.network.driver.mtu", str(n.mtu))
    if n.parent is not None:
        options.setdefault("parent", n.parent)
    if n.encrypted:
        options.setdefault("encrypted", "")
    ipam: list[tuple[str, str | None, str | None]] = []
    if n.subnet is not None:
        ipam.append((str(n.subnet), str(n.gateway) if n.gateway else None,
                     str(n.ip_range) if n.ip_range else None))
    if n.ipv6_subnet is not None:
        ipam.append((str(n.ipv6_subnet), str(n.ipv6_gateway) if n.ipv6_gateway else None, None))
    own = labels.owned_labels(labels.Owner(sc.name, instance), n.key, "network", fields)
    return NetworkSpec(
        key=n.key, name=n.name, host=host, driver=n.driver,
        labels=tuple({**dict(n.labels), **own}.items()),
        ipam=tuple(ipam), ipv6=n.ipv6_subnet is not None, internal=n.internal,
        attachable=n.attachable if n.driver == "overlay" else False,
        options=tuple(sorted(options.items())),
        config_hash=own[labels.CONFIG_HASH], config_fields=own[labels.FIELDS],
    )


def attachment_spec(sc: Scenario, c: Container, a: Attachment) -> AttachmentSpec:
    """How `c` is attached to `a.network`, as `up` connects it (a step's connect too)."""
    n = sc.network(a.network)
    # Docker's default bridge refuses aliases (validation refuses declared ones)
    aliases = () if n.default_bridge else (c.key, *[x for x in a.aliases if x != c.key])
    return AttachmentSpec(a.network, n.name,
                          str(a.ipv4) if a.ipv4 else None, str(a.ipv6) if a.ipv6 else None,
                          aliases, a.mac, a.impair, n.external)


def _ports(c: Container) -> tuple[tuple[str, str | None, int | None], ...]:
    out: list[tuple[str, str | None, int | None]] = []
    for p in c.ports:
        last = p.container_port_end or p.container_port
        for i, port in enumerate(range(p.container_port, last + 1)):
            host_port = None if p.host_port is None else p.host_port + i
            out.append((f"{port}/{p.protocol}", p.host_ip, host_port))
    return tuple(out)


def _links(sc: Scenario, c: Container) -> tuple[tuple[str, str], ...]:
    """What Docker is handed: each link's target by Docker name, with its alias (default
    the key). Docker writes the alias, the target's hostname and its Docker name into
    /etc/hosts; when neither the alias nor the hostname is the key, the key is linked as
    well, so that the key always resolves in the linking container."""
    if not c.links:
        return ()
    by_key = {x.key: x for x in sc.containers}
    names = {ln.name for ln in c.links}
    out: list[tuple[str, str]] = []
    for ln in c.links:
        target = by_key.get(ln.container)
        if target is None:  # validation refused it
            continue
        out.append((target.name, ln.name))
        if ln.name != target.key and target.hostname != target.key and target.key not in names:
            names.add(target.key)
            out.append((target.name, target.key))
    return tuple(out)


def link_depths(sc: Scenario) -> dict[str, int]:
    """Each container's depth in the links (0: it links nothing), without recursion; a
    cycle (refused by validation) counts as depth 0 where it closes."""
    links = {c.key: [ln.container for ln in c.links] for c in sc.containers}
    depth: dict[str, int] = {}
    for root in links:
        todo = [root]
        walking = {root}
        while todo:
            key = todo[-1]
            pending = [t for t in links.get(key, ()) if t in links and t not in depth
                       and t not in walking]
            if pending:
                walking.update(pending)
                todo.extend(pending)
                continue
            todo.pop()
            walking.discard(key)
            if key not in depth:
                depth[key] = max((depth.get(t, -1) + 1 for t in links[key] if t in links),
                                 default=0)
    return depth


def _container_fields(c: Container, mac: str | None,
                      attachments: tuple[AttachmentSpec, ...],
                      links: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Declared, container-level fields: these make a container to be recreated on change.

    Network attachments are compared one by one instead (a changed address is repaired
    by reconnecting, keeping the container), except the MAC, which API 1.41 sets only at
    creation, and aliases, which the engine's container list does not show.
    """
    fields: dict[str, Any] = {"image": c.image, "hostname": c.hostname, "init": c.init}
    optional: dict[str, Any] = {
        "command": list(c.command) if c.command is not None else None,
        "entrypoint": list(c.entrypoint) if c.entrypoint is not None else None,
        # No networks and no mode is Docker's default bridge: say so, so that moving to or
        # from the scenario's networks recreates the container, as a fresh `up` places it.
        "network_mode": c.network_mode or (None if attachments else "bridge"),
        "env": list(c.env) or None,
        "labels": list(c.labels) or None,
        "dns": list(c.dns) or None,
        "dns_search": list(c.dns_search) or None,
        "cap_add": list(c.cap_add) or None,
        "cap_drop": list(c.cap_drop) or None,
        "privileged": c.privileged or None,
        "sysctls": list(c.sysctls) or None,
        "ports": [str(p) for p in c.ports] or None,
        "volumes": [str(v) for v in c.volumes] or None,
        "restart": c.restart,
        "mac": mac,
        "aliases": {a.network_key: list(a.aliases[1:]) for a in attachments if a.aliases[1:]}
        or None,
        "links": [f"{name}:{alias}" for name, alias in links] or None,
        # a container leaves an external network only by being removed (spec 10.2): a
        # change of these recreates it rather than disconnecting it
        "external": sorted(a.network_name for a in attachments if a.external) or None,
        "extra_hosts": [f"{name}:{addr}" for name, addr in c.extra_hosts] or None,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    return fields


def container_spec(sc: Scenario, c: Container, instance: str,
                   depths: dict[str, int] | None = None) -> ContainerSpec:
    """`depths`: `link_depths(sc)`, when the caller makes the specs of many containers."""
    attachments = tuple(attachment_spec(sc, c, a) for a in c.attachments)
    # API 1.41 takes a MAC only at create time, for the network created on: put the
    # attachment that has one first.
    attachments = tuple(sorted(attachments, key=lambda a: a.mac is None))
    mac = attachments[0].mac if attachments else None
    links = _links(sc, c)
    fields = _container_fields(c, mac, attachments, links)
    own = labels.owned_labels(labels.Owner(sc.name, instance), c.key, "container", fields)
    binds = tuple(
        f"{v.source}:{v.target}:{'ro' if v.read_only else 'rw'}" if v.source else v.target
        for v in c.volumes
    )
    return ContainerSpec(
        key=c.key, name=c.name, host=c.host, image=c.image, hostname=c.hostname,
        command=c.command, entrypoint=c.entrypoint, network_mode=c.network_mode,
        attachments=attachments, env=c.env, labels=tuple({**dict(c.labels), **own}.items()),
        dns=c.dns, dns_search=c.dns_search, cap_add=c.cap_add, cap_drop=c.cap_drop,
        privileged=c.privileged, sysctls=c.sysctls, ports=_ports(c), binds=binds,
        restart=c.restart, init=c.init, mac=mac,
        config_hash=own[labels.CONFIG_HASH], config_fields=own[labels.FIELDS],
        links=links, linked=tuple(dict.fromkeys(ln.container for ln in c.links)),
        link_depth=(depths if depths is not None else link_depths(sc)).get(c.key, 0),
        extra_hosts=tuple(f"{name}:{addr}" for name, addr in c.extra_hosts),
    )


def _named_volumes(sc: Scenario, host: str, instance: str) -> tuple[VolumeSpec, ...]:
    names = sorted({v.source for c in sc.containers if c.host == host for v in c.volumes
                    if v.source and not v.source.startswith(("/", ".", "~"))})
    own = tuple(labels.Owner(sc.name, instance).labels().items())
    return tuple(
        VolumeSpec(n, host, (*own, (labels.KEY, n), (labels.KIND, "volume"),
                             (labels.VERSION, __version__)))
        for n in names
    )


def _impaired_by_steps(*scenarios: Scenario | None) -> set[str]:
    """Keys of the containers a step may impair: read back too, since a step's impairment
    outlives the step (`verify --steps` restores the declared state with `up`, and a
    `--keep-state` run leaves it) even on an attachment the file leaves unimpaired."""
    return {a.container for sc in scenarios if sc is not None for step in sc.steps
            for a in step.actions if a.kind == "impair" and a.container is not None}


def desired_state(sc: Scenario, instance: str,
                  deployed: Scenario | None = None) -> dict[str, HostDesired]:
    """Per host, what it should hold; every object labelled as `instance`'s of the lab
    ("" labels none: a lab an older dnetlab brought up keeps its objects' labels).
    `deployed`, the scenario of the lab's last `up` here, names the containers that had
    an impairment, which are read back so that one dropped from the file is removed."""
    result: dict[str, HostDesired] = {}
    # An overlay is created once, on the swarm's first manager; other hosts attach to it
    # by name (it shows on a worker once a container there uses it).
    lead = next((h.key for h in sc.hosts if h.swarm == "manager"), None)
    depths = link_depths(sc)
    for h in sc.hosts:
        containers = tuple(container_spec(sc, c, instance, depths) for c in sc.containers
                           if c.host == h.key)
        networks = tuple(network_spec(sc, n, h.key, instance) for n in sc.networks
                         if not n.external and (h.key == lead if n.driver == "overlay"
                                                else h.key in n.hosts))
        used = {a.network_key for c in containers for a in c.attachments if a.external}
        externals = tuple(ExternalSpec(n.key, n.name, h.key,
                                       str(n.subnet) if n.subnet is not None else None)
                          for n in sc.networks if n.key in used)
        images = tuple(sorted({c.image for c in containers}))
        read = {c.name for c in containers if any(a.impair for a in c.attachments)}
        read |= {c.name for c in (deployed.containers if deployed else ())
                 if c.host == h.key and any(a.impair for a in c.attachments)}
        read |= {c.name for c in sc.containers
                 if c.host == h.key and c.key in _impaired_by_steps(sc, deployed)}
        result[h.key] = HostDesired(h.key, networks, containers,
                                    _named_volumes(sc, h.key, instance), images,
                                    frozenset(read), externals)
    return result
