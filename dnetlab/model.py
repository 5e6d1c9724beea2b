"""The validated scenario as frozen, typed data: nothing past validation sees raw dicts.

A probe's dataclass lives in its type's module under `dnetlab.probes`, beside its command
and check, so that a probe type is one module; `Probe` is their union.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

from dnetlab.probes.registry import Probe

Pairs = tuple[tuple[str, str], ...]  # an ordered, immutable mapping of text to text

Driver = Literal["bridge", "overlay", "macvlan", "ipvlan"]
SwarmRole = Literal["manager", "worker"]
NetworkMode = Literal["none", "host", "bridge"]

LOCAL_HOST = "local"
DEFAULT_BRIDGE = "bridge"  # the name of Docker's default bridge network on every engine


@dataclass(frozen=True)
class Host:
    key: str
    engine: str | None  # None: the local engine as the docker CLI finds it
    swarm: SwarmRole | None = None
    advertise_addr: str | None = None

    @property
    def is_local(self) -> bool:
        """Its engine runs on this machine (a unix socket, or the default one)."""
        return self.engine is None or self.engine.startswith("unix://")


@dataclass(frozen=True)
class Impairment:
    """Egress impairment of one interface (docs/impairments.md); every field optional."""

    rate: str | None = None  # as written (`10mbit`): shown and handed to tc as is
    rate_bps: int | None = None  # the same in bits per second: compared with what tc reads
    loss: float | None = None  # percent, 0-100
    delay: float | None = None  # milliseconds
    jitter: float | None = None  # milliseconds; only with delay

    @property
    def empty(self) -> bool:
        return (self.rate_bps is None and not self.loss and not self.delay
                and not self.jitter)

    @property
    def needs_netem(self) -> bool:
        return bool(self.delay or self.jitter)

    def describe(self) -> str:
        parts = []
        if self.rate is not None:
            parts.append(f"rate {self.rate}")
        if self.loss:
            parts.append(f"loss {self.loss:g}%")
        if self.delay:
            parts.append(f"delay {self.delay:g}ms")
        if self.jitter:
            parts.append(f"jitter {self.jitter:g}ms")
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class Network:
    key: str
    name: str
    driver: Driver = "bridge"
    subnet: IPv4Network | None = None
    gateway: IPv4Address | None = None
    ip_range: IPv4Network | None = None
    ipv6_subnet: IPv6Network | None = None
    ipv6_gateway: IPv6Address | None = None
    internal: bool = False
    attachable: bool = True
    encrypted: bool = False
    mtu: int | None = None
    parent: str | None = None
    hosts: tuple[str, ...] = ()  # where instances are created (declared or derived)
    hosts_declared: bool = False
    options: Pairs = ()
    labels: Pairs = ()
    impair: Impairment | None = None  # the default of its attachments
    # an existing network the lab uses but never creates, changes or removes (spec 10.2)
    external: bool = False

    @property
    def default_bridge(self) -> bool:
        """Docker's default bridge, named as an external network."""
        return self.external and self.name == DEFAULT_BRIDGE


@dataclass(frozen=True)
class Attachment:
    network: str  # network key
    ipv4: IPv4Address | None = None
    ipv6: IPv6Address | None = None
    aliases: tuple[str, ...] = ()
    mac: str | None = None
    impair: Impairment | None = None  # the network's default already applied


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"
    host_port: int | None = None
    host_ip: str | None = None
    container_port_end: int | None = None  # ranges as "8000-8010:8000-8010"
    host_port_end: int | None = None


@dataclass(frozen=True)
class Volume:
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class Link:
    """A legacy link (`docker run --link`): the linked container's key and the alias
    written for it in the linking container's /etc/hosts (None: its key)."""

    container: str
    alias: str | None = None

    @property
    def name(self) -> str:
        """The name the linking container resolves: the alias, else the key."""
        return self.alias or self.container


@dataclass(frozen=True)
class Container:
    key: str
    name: str
    image: str
    host: str
    hostname: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    network_mode: NetworkMode | None = None
    attachments: tuple[Attachment, ...] = ()
    env: Pairs = ()
    labels: Pairs = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    sysctls: Pairs = ()
    ports: tuple[PortMapping, ...] = ()
    volumes: tuple[Volume, ...] = ()
    restart: str | None = None
    init: bool = True
    links: tuple[Link, ...] = ()
    extra_hosts: Pairs = ()  # (hostname, address or "host-gateway"), in file order

    @property
    def on_default_bridge(self) -> bool:
        """Docker's default bridge: no networks and no mode, or network_mode bridge."""
        return self.network_mode == "bridge" or (
            self.network_mode is None and not self.attachments)

    def attachment(self, network: str) -> Attachment | None:
        return next((a for a in self.attachments if a.network == network), None)


ActionKind = Literal["disconnect", "connect", "pause", "unpause", "stop", "start", "restart",
                    "kill", "impair", "heal", "exec", "sleep"]


@dataclass(frozen=True)
class Action:
    """One thing a step does to the running lab (spec section 10.3, docs/steps.md).

    Only the fields of its kind are set: `container` (a container key) for all but `exec`
    and `sleep`; `network` (a network key) for disconnect, connect, impair, heal; `ipv4`
    for connect (None: the attachment's declared address, if any); `impair` for impair;
    `on` (a container key or `host:KEY`) and `command` for exec; `seconds` for sleep.
    """

    kind: ActionKind
    index: int = 0  # position in its step's `do` list
    container: str | None = None
    network: str | None = None
    ipv4: IPv4Address | None = None
    impair: Impairment | None = None
    on: str | None = None
    command: tuple[str, ...] = ()
    seconds: float = 0.0

    def describe(self) -> str:
        k = self.kind
        if k == "disconnect":
            return f"disconnect {self.container} from {self.network}"
        if k == "connect":
            at = f" as {self.ipv4}" if self.ipv4 is not None else ""
            return f"connect {self.container} to {self.network}{at}"
        if k == "impair":
            what = self.impair.describe() if self.impair is not None else "none"
            return f"impair {self.container} on {self.network}: {what}"
        if k == "heal":
            return f"heal {self.container} on {self.network}"
        if k == "exec":
            return f"exec on {self.on}: {' '.join(self.command)}"
        if k == "sleep":
            return f"sleep {self.seconds:g} s"
        return f"{k} {self.container}"


@dataclass(frozen=True)
class Step:
    """A named change to the running lab and the probes that must hold after it."""

    name: str
    index: int  # position in `steps`
    actions: tuple[Action, ...]
    probes: tuple[Probe, ...] = ()
    within: float = 0.0  # the default `within` of its probes


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    hosts: tuple[Host, ...]
    networks: tuple[Network, ...]
    containers: tuple[Container, ...]
    probes: tuple[Probe, ...] = ()
    probe_image: str = "busybox"
    steps: tuple[Step, ...] = ()
    source_path: str = field(default="", compare=False)

    def host(self, key: str) -> Host:
        return next(h for h in self.hosts if h.key == key)

    def network(self, key: str) -> Network:
        return next(n for n in self.networks if n.key == key)

    def container(self, key: str) -> Container:
        return next(c for c in self.containers if c.key == key)

    @property
    def multi_host(self) -> bool:
        return len(self.hosts) > 1
