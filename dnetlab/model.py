"""The validated scenario as frozen, typed data: nothing past validation sees raw dicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Literal

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


@dataclass(frozen=True)
class Attachment:
    network: str  # network key
    ipv4: IPv4Address | None = None
    ipv6: IPv6Address | None = None
    aliases: tuple[str, ...] = ()
    mac: str | None = None


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

    def attachment(self, network: str) -> Attachment | None:
        return next((a for a in self.attachments if a.network == network), None)


# ---- probes ---------------------------------------------------------------------------------

TargetKind = Literal["container", "container_network", "address", "hostname"]


@dataclass(frozen=True)
class Target:
    """Where a probe points: `b1`, `b1@lan`, `10.0.0.5` or `example.internal`."""

    text: str
    kind: TargetKind
    container: str | None = None
    network: str | None = None


@dataclass(frozen=True)
class ProbeBase:
    name: str
    within: float  # seconds to keep retrying; 0: one try
    index: int  # position in the file's `probes` list, for messages
    name_given: bool


@dataclass(frozen=True)
class PingProbe(ProbeBase):
    source: str
    target: Target
    count: int = 3
    expect: Literal["reachable", "unreachable"] = "reachable"
    max_loss: float = 0.0
    type: Literal["ping"] = "ping"


@dataclass(frozen=True)
class DnsProbe(ProbeBase):
    source: str
    query: str
    addresses: tuple[str, ...] = ()
    expect: Literal["resolves", "nxdomain"] = "resolves"
    type: Literal["dns"] = "dns"


@dataclass(frozen=True)
class TcpProbe(ProbeBase):
    source: str
    target: Target
    port: int
    expect: Literal["open", "closed"] = "open"
    type: Literal["tcp"] = "tcp"


@dataclass(frozen=True)
class HttpProbe(ProbeBase):
    source: str
    url: str
    status: int = 200
    contains: str | None = None
    type: Literal["http"] = "http"


@dataclass(frozen=True)
class TracerouteProbe(ProbeBase):
    source: str
    target: Target
    max_hops: int = 10
    hops: int | None = None
    path: tuple[str, ...] | None = None
    via: str | None = None
    type: Literal["traceroute"] = "traceroute"


@dataclass(frozen=True)
class InterfacesProbe(ProbeBase):
    on: str  # container key, or "host:<key>"
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    addresses: tuple[tuple[str, tuple[str, ...]], ...] = ()
    subnets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    mac: Pairs = ()
    mtu: tuple[tuple[str, int], ...] = ()
    type: Literal["interfaces"] = "interfaces"


@dataclass(frozen=True)
class RoutesProbe(ProbeBase):
    on: str
    default_via: str | None = None  # an address, or "none"
    contains: tuple[str, ...] = ()
    type: Literal["routes"] = "routes"


@dataclass(frozen=True)
class FileProbe(ProbeBase):
    on: str
    path: str
    contains: tuple[str, ...] = ()
    matches: str | None = None
    absent_text: tuple[str, ...] = ()
    type: Literal["file"] = "file"


@dataclass(frozen=True)
class ExecProbe(ProbeBase):
    on: str
    command: tuple[str, ...]
    exit_code: int = 0
    stdout_contains: str | None = None
    stdout_matches: str | None = None
    type: Literal["exec"] = "exec"


Probe = (
    PingProbe
    | DnsProbe
    | TcpProbe
    | HttpProbe
    | TracerouteProbe
    | InterfacesProbe
    | RoutesProbe
    | FileProbe
    | ExecProbe
)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    hosts: tuple[Host, ...]
    networks: tuple[Network, ...]
    containers: tuple[Container, ...]
    probes: tuple[Probe, ...] = ()
    probe_image: str = "busybox"
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
