"""Stage 4: schema-valid data to the typed model, parsing every field's own syntax.

Entries whose schema check failed are left out (their keys are returned as `broken`) so
that the remaining checks still run and the user sees every problem in one pass. A probe's
own fields are built by its type's module (`dnetlab.probes`), found through the registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from typing import Any, cast

from dnetlab.errors import shown
from dnetlab.load import impairment
from dnetlab.load.findings import Findings
from dnetlab.load.limits import too_many_probes
from dnetlab.load.yamlload import Path
from dnetlab.model import (
    LOCAL_HOST,
    Attachment,
    Container,
    Host,
    Link,
    Network,
    Pairs,
    PortMapping,
    Scenario,
    Volume,
)
from dnetlab.probes.base import Fields, Target
from dnetlab.probes.fields import argv
from dnetlab.probes.registry import Probe, kind_named

_ZONE = re.compile(r"[A-Za-z0-9_.-]{1,15}")  # an interface name, or an index
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)"
                       r"(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?)*\.?$")


@dataclass(frozen=True)
class Broken:
    """Keys of entries that failed the schema: they exist, but could not be built."""

    hosts: frozenset[str]
    networks: frozenset[str]
    containers: frozenset[str]
    probes: frozenset[int] = frozenset()
    field_paths: frozenset[Path] = frozenset()  # fields that failed the schema
    steps: frozenset[int] = frozenset()  # a step's own fields or actions failed
    step_probes: frozenset[tuple[int, int]] = frozenset()  # (step, probe) indexes

    def covers(self, path: Path) -> bool:
        return any(path[: len(p)] == p for p in self.field_paths)


def _pairs(mapping: dict[str, Any] | None) -> Pairs:
    if not mapping:
        return ()
    return tuple((str(k), _text(v)) for k, v in mapping.items())


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def parse_ipv4_net(value: str, path: Path, out: Findings) -> IPv4Network | None:
    if not isinstance(value, str):  # wrong type: the schema reported it
        return None
    try:
        net = ip_network(value, strict=False)
    except ValueError:
        out.error(path, f"{shown(value)} is not a CIDR",
                  "write an IPv4 network such as 10.0.0.0/24")
        return None
    if isinstance(net, IPv6Network):
        out.error(path, f"{value} is an IPv6 network where IPv4 is expected",
                  "put IPv6 networks under ipv6_subnet")
        return None
    if "/" not in value:
        out.error(path, f"{shown(value)} has no prefix length",
                  f"did you mean {net.network_address}/24?")
        return None
    if net.network_address != ip_address(value.split("/")[0]):
        out.error(path, f"{value} has host bits set", f"did you mean {net}?")
        return None
    return net


def parse_ipv6_net(value: str, path: Path, out: Findings) -> IPv6Network | None:
    if not isinstance(value, str):  # wrong type: the schema reported it
        return None
    try:
        net = ip_network(value, strict=False)
        if "%" in value:  # a zone belongs to an interface's address, not to a subnet
            raise ValueError(value)
    except ValueError:
        out.error(path, f"{shown(value)} is not a CIDR",
                  "write an IPv6 network such as fd00:1::/64")
        return None
    if isinstance(net, IPv4Network):
        out.error(path, f"{value} is an IPv4 network where IPv6 is expected",
                  "put IPv4 networks under subnet")
        return None
    if "/" not in value:
        out.error(path, f"{shown(value)} has no prefix length")
        return None
    if net.network_address != ip_address(value.split("/")[0]):
        out.error(path, f"{value} has host bits set", f"did you mean {net}?")
        return None
    return net


def parse_ipv4(value: str, path: Path, out: Findings) -> IPv4Address | None:
    if not isinstance(value, str):  # wrong type: the schema reported it
        return None
    try:
        addr = ip_address(value)
    except ValueError:
        hint = "an address takes no prefix length here" if "/" in value else None
        out.error(path, f"{shown(value)} is not an IP address", hint)
        return None
    if isinstance(addr, IPv6Address):
        out.error(path, f"{value} is an IPv6 address where IPv4 is expected",
                  "IPv6 addresses go under ipv6 / ipv6_gateway")
        return None
    return addr


def parse_ipv6(value: str, path: Path, out: Findings) -> IPv6Address | None:
    if not isinstance(value, str):  # wrong type: the schema reported it
        return None
    try:
        addr = ip_address(value)
        if "%" in value:  # a zone: an interface's own scope, never a static address
            raise ValueError(value)
    except ValueError:
        out.error(path, f"{shown(value)} is not an IP address",
                  "a static address takes no %zone" if "%" in value else None)
        return None
    if isinstance(addr, IPv4Address):
        out.error(path, f"{value} is an IPv4 address where IPv6 is expected",
                  "IPv4 addresses go under ipv4 / gateway")
        return None
    return addr


def _port_number(text: str, path: Path, out: Findings) -> int | None:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        out.error(path, f"{shown(text)} is not a port number (1-65535)")
        return None
    return int(text)


def _port_range(text: str, path: Path, out: Findings) -> tuple[int, int | None] | None:
    lo, _, hi = text.partition("-")
    first = _port_number(lo, path, out)
    last = _port_number(hi, path, out) if hi else None
    if first is None or (hi and last is None):
        return None
    if last is not None and last < first:
        out.error(path, f"port range {text} ends before it starts")
        return None
    return first, last


def parse_port(value: str | int, path: Path, out: Findings) -> PortMapping | None:
    """Compose short syntax: [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL]."""
    text = str(value)
    body, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        out.error(path, f"unknown protocol {shown(proto)} in {shown(text)}", "use tcp, udp or sctp")
        return None
    host_ip: str | None = None
    if body.startswith("["):  # [::1]:8080:80
        end = body.find("]")
        host_ip, body = body[1:end], body[end + 2:]
    parts = body.split(":")
    if len(parts) == 3 and host_ip is None:
        host_ip, parts = parts[0], parts[1:]
    if len(parts) > 2 or (host_ip is not None and len(parts) != 2):
        out.error(path, f"{shown(text)} is not a port mapping",
                  "write CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER, optionally /udp")
        return None
    if host_ip is not None:
        try:
            ip_address(host_ip)
        except ValueError:
            out.error(path, f"{shown(host_ip)} in {shown(text)} is not an IP address")
            return None
    container = _port_range(parts[-1], path, out)
    host = _port_range(parts[0], path, out) if len(parts) == 2 and parts[0] else None
    if container is None or (len(parts) == 2 and parts[0] and host is None):
        return None
    return PortMapping(
        container_port=container[0],
        container_port_end=container[1],
        protocol=cast(Any, proto),
        host_port=host[0] if host else None,
        host_port_end=host[1] if host else None,
        host_ip=host_ip,
    )


def parse_volume(value: str, path: Path, out: Findings) -> Volume | None:
    parts = value.split(":")
    if len(parts) == 1:
        parts = ["", parts[0]]
    if len(parts) not in (2, 3) or not parts[1].startswith("/"):
        out.error(path, f"{shown(value)} is not a volume", "write SOURCE:/path/in/container[:ro]")
        return None
    mode = parts[2] if len(parts) == 3 else "rw"
    if any(m not in ("ro", "rw", "z", "Z") for m in mode.split(",")):
        out.error(path, f"unknown volume mode {shown(mode)}", "use ro or rw")
        return None
    return Volume(parts[0], parts[1], "ro" in mode.split(","))


def parse_link(value: str) -> Link:
    """`KEY` or `KEY:ALIAS`, the schema's pattern already checked."""
    key, _, alias = value.partition(":")
    return Link(key, alias or None)


def parse_extra_host(value: str, path: Path, out: Findings) -> str | None:
    """An `extra_hosts` address, as Docker writes it: an IP (normalised) or host-gateway."""
    if not isinstance(value, str):  # wrong type: the schema reported it
        return None
    if value == "host-gateway":
        return value
    try:
        if "%" in value:  # a zone is an interface's scope: /etc/hosts cannot say it
            raise ValueError(value)
        return str(ip_address(value))
    except ValueError:
        hint = ("an address takes no prefix length here" if "/" in value else
                "`extra_hosts` maps a hostname to an IPv4 or IPv6 address (or host-gateway), "
                "as docker run --add-host")
        out.error(path, f"{shown(value)} is not an IP address", hint)
        return None


class Builder:
    def __init__(self, data: dict[str, Any], broken: Broken, out: Findings) -> None:
        self.data = data
        self.broken = broken
        self.out = out
        self.expanded = 0  # probes so far, counted before they are made
        self.over = False  # limits.MAX_PROBES was crossed: no further probe is made
        self.impair_declared: set[tuple[str, str]] = set()  # (container, network) keys

    # -- hosts ---------------------------------------------------------------------------
    def hosts(self) -> tuple[Host, ...]:
        raw = self.data.get("hosts")
        if not raw:
            return (Host(LOCAL_HOST, None),)
        return tuple(
            Host(k, v.get("engine"), v.get("swarm"), v.get("advertise_addr"))
            for k, v in raw.items()
            if k not in self.broken.hosts
        )

    # -- networks ------------------------------------------------------------------------
    def network(self, key: str, v: dict[str, Any], hosts: tuple[str, ...], declared: bool) -> (
        Network
    ):
        p: Path = ("networks", key)
        subnet = parse_ipv4_net(v["subnet"], (*p, "subnet"), self.out) if "subnet" in v else None
        v6 = (parse_ipv6_net(v["ipv6_subnet"], (*p, "ipv6_subnet"), self.out)
              if "ipv6_subnet" in v else None)
        return Network(
            key=key,
            # an external network is named as it is: by default its key (as in Compose)
            name=v.get("name") or (key if v.get("external") is True
                                   else f"{self.data.get('name', 'lab')}-{key}"),
            driver=v.get("driver", "bridge"),
            subnet=subnet,
            gateway=parse_ipv4(v["gateway"], (*p, "gateway"), self.out) if "gateway" in v else None,
            ip_range=(parse_ipv4_net(v["ip_range"], (*p, "ip_range"), self.out)
                      if "ip_range" in v else None),
            ipv6_subnet=v6,
            ipv6_gateway=(parse_ipv6(v["ipv6_gateway"], (*p, "ipv6_gateway"), self.out)
                          if "ipv6_gateway" in v else None),
            internal=v.get("internal", False),
            attachable=v.get("attachable", True),
            encrypted=v.get("encrypted", False),
            mtu=v.get("mtu"),
            parent=v.get("parent"),
            hosts=hosts,
            hosts_declared=declared,
            options=_pairs(v.get("options")),
            labels=_pairs(v.get("labels")),
            impair=(impairment.parse(v["impair"], (*p, "impair"), self.out)
                    if "impair" in v else None),
            external=v.get("external") is True,
        )

    # -- containers ----------------------------------------------------------------------
    def attachments(self, key: str, raw: Any) -> tuple[Attachment, ...]:
        if raw is None:
            return ()
        if isinstance(raw, list):
            return tuple(Attachment(n) for n in raw)
        result = []
        for net, att in raw.items():
            att = att or {}
            p: Path = ("containers", key, "networks", net)
            result.append(
                Attachment(
                    network=net,
                    ipv4=parse_ipv4(att["ipv4"], (*p, "ipv4"), self.out) if "ipv4" in att else None,
                    ipv6=parse_ipv6(att["ipv6"], (*p, "ipv6"), self.out) if "ipv6" in att else None,
                    aliases=tuple(att.get("aliases", ())),
                    mac=att["mac"].lower() if "mac" in att else None,
                    impair=(impairment.parse(att["impair"], (*p, "impair"), self.out)
                            if "impair" in att else None),
                )
            )
            if "impair" in att:
                self.impair_declared.add((key, net))
        return tuple(result)

    def container(self, key: str, v: dict[str, Any], default_host: str | None) -> Container:
        p: Path = ("containers", key)
        ports = tuple(
            pm for i, x in enumerate(v.get("ports", ()))
            if (pm := parse_port(x, (*p, "ports", i), self.out)) is not None
        )
        volumes = tuple(
            vol for i, x in enumerate(v.get("volumes", ()))
            if (vol := parse_volume(x, (*p, "volumes", i), self.out)) is not None
        )
        for i, d in enumerate(v.get("dns", ())):
            try:
                ip_address(str(d))
            except ValueError:
                self.out.error((*p, "dns", i), f"{shown(d)} is not an IP address",
                               "`dns` lists resolver addresses, as docker run --dns")
        extra_hosts = tuple(
            (str(name), addr) for name, x in (v.get("extra_hosts") or {}).items()
            if (addr := parse_extra_host(x, (*p, "extra_hosts", name), self.out)) is not None
        )
        return Container(
            key=key,
            name=v.get("name") or f"{self.data.get('name', 'lab')}-{key}",
            image=v["image"],
            host=v.get("host") or default_host or "",
            hostname=v.get("hostname") or key,
            command=argv(v.get("command"), (*p, "command"), self.out),
            entrypoint=argv(v.get("entrypoint"), (*p, "entrypoint"), self.out),
            network_mode=v.get("network_mode"),
            attachments=self.attachments(key, v.get("networks")),
            env=_pairs(v.get("env")),
            labels=_pairs(v.get("labels")),
            dns=tuple(v.get("dns", ())),
            dns_search=tuple(v.get("dns_search", ())),
            cap_add=tuple(v.get("cap_add", ())),
            cap_drop=tuple(v.get("cap_drop", ())),
            privileged=v.get("privileged", False),
            sysctls=_pairs(v.get("sysctls")),
            ports=ports,
            volumes=volumes,
            restart=v.get("restart"),
            init=v.get("init", True),
            links=tuple(parse_link(x) for x in v.get("links", ())),
            extra_hosts=extra_hosts,
        )

    # -- probes --------------------------------------------------------------------------
    def target(self, text: str, path: Path) -> Target:
        if "@" in text:
            c, _, n = text.partition("@")
            return Target(text, "container_network", container=c, network=n)
        try:
            ip_address(text)
            # a zone (fe80::1%eth0) names an interface; anything else is no address
            if "%" not in text or _ZONE.fullmatch(text.partition("%")[2]):
                return Target(text, "address")
        except ValueError:
            pass
        containers = self.data.get("containers") or {}
        if text in containers:
            return Target(text, "container", container=text)
        if not _HOSTNAME.fullmatch(text):
            self.out.error(path, f"{shown(text)} is neither a container key, key@network, an "
                           "IP address nor a hostname")
        return Target(text, "hostname")

    def probes(self) -> tuple[Probe, ...]:
        result: list[Probe] = []
        for i, raw in enumerate(self.data.get("probes") or ()):
            if i not in self.broken.probes:
                result.extend(self.probe(i, raw))
        return unique_names(result)

    def probe(self, i: int, v: dict[str, Any], at: Path | None = None,
              within: float = 0.0) -> list[Probe]:
        """What every type shares (`from`/`to` lists, names, `within`, the target), then
        the type's own `build`.

        `i` is the probe's position in its list, `at` where that list's item stands
        (default: ("probes", i)); `within` is the default of its own `within` (a step's).
        """
        p: Path = at if at is not None else ("probes", i)
        kind = kind_named(v["type"])
        if kind is None:  # the schema reported the type; without one no field means anything
            return []
        sources = v.get("from")
        src_list = [sources] if isinstance(sources, str) else list(sources or [None])
        to = v.get("to")
        to_list = [to] if isinstance(to, str) else list(to or [None])
        if not self.count(p, len(src_list), len(to_list)):
            return []
        pairs = [(s, t) for s in src_list for t in to_list]
        expanded = len(pairs) > 1
        if expanded:  # lists expand to every pair of distinct containers
            pairs = [(s, t) for s, t in pairs if s != t]
        out: list[Probe] = []
        label = v.get("name") if kind.name_is_label(v) else None
        for s, t in pairs:
            name = label or kind.name(v, s, t)
            if label and expanded:
                name = f"{label} [{s} -> {t}]" if t else f"{label} [{s}]"
            common: dict[str, Any] = {"name": name, "within": float(v.get("within", within)),
                                      "index": i, "name_given": label is not None}
            tgt = self.target(t, (*p, "to")) if t is not None else None
            # only the types that take `from` and `to` read them: None for the others
            out.append(kind.build(Fields(v, p, common, cast(str, s), cast(Target, tgt),
                                         self.out)))
        return out

    def count(self, p: Path, sources: int, targets: int) -> bool:
        """Count the probes an entry makes before making them: False (and a located error
        at the entry that crosses the limit) when they would be too many. The pipeline
        counts them before the schema already (`limits.oversized`); this holds for any
        caller, and for entries whose lists the schema refused."""
        if self.over:
            return False
        over = too_many_probes(sources, targets, self.expanded)
        if over is None:
            self.expanded += sources * targets
            return True
        self.over = True
        self.out.error(p, over.message, over.hint, at_key=True)
        return False

    def check_broken_fields(self, default_host: str | None) -> None:
        """Parse the fields of entries that failed the schema, for their own errors.

        The entries stay out of the model; only findings on fields that passed the schema
        are kept, so nothing is reported twice.
        """
        scratch = Findings()
        probe = Builder(self.data, self.broken, scratch)
        for k in self.broken.containers:
            with _tolerant():
                probe.container(k, self.data["containers"][k], default_host)
        for k in self.broken.networks:
            with _tolerant():
                probe.network(k, self.data["networks"][k], (), False)
        for i in self.broken.probes:
            with _tolerant():
                probe.probe(i, self.data["probes"][i])
        self.out.items.extend(f for f in scratch.items if not self.broken.covers(f.path))

    # -- whole scenario ------------------------------------------------------------------
    def scenario(self, source_path: str) -> Scenario:
        hosts = self.hosts()
        host_keys = tuple(h.key for h in hosts)
        default_host = host_keys[0] if len(host_keys) == 1 else None
        containers = tuple(
            self.container(k, v, default_host)
            for k, v in (self.data.get("containers") or {}).items()
            if k not in self.broken.containers
        )
        self.check_broken_fields(default_host)
        used: dict[str, set[str]] = {}  # network key -> hosts of its containers
        for c in containers:
            for a in c.attachments:
                used.setdefault(a.network, set()).add(c.host)
        networks = []
        for k, v in (self.data.get("networks") or {}).items():
            if k in self.broken.networks:
                continue
            declared = "hosts" in v
            where = tuple(v["hosts"]) if declared else _derived_hosts(v, used.get(k, set()),
                                                                       hosts)
            networks.append(self.network(k, v, where, declared))
        containers = impairment.with_defaults(containers, networks, self.impair_declared)
        return Scenario(
            name=str(self.data.get("name", "")),
            description=self.data.get("description", ""),
            hosts=hosts,
            networks=tuple(networks),
            containers=containers,
            probes=self.probes(),
            probe_image=self.data.get("probe_image", "busybox"),
            source_path=source_path,
        )


@contextmanager
def _tolerant() -> Iterator[None]:
    # A field of the wrong type makes parsing trip; the schema already reported it.
    with suppress(KeyError, TypeError, AttributeError, ValueError, IndexError):
        yield


def _derived_hosts(v: dict[str, Any], used: set[str],
                   hosts: tuple[Host, ...]) -> tuple[str, ...]:
    """Where a network without `hosts:` goes; `used`: the hosts of its containers."""
    if v.get("driver") == "overlay":
        return tuple(h.key for h in hosts if h.swarm is not None)
    if len(hosts) == 1:
        return (hosts[0].key,)
    return tuple(h.key for h in hosts if h.key in used)


def unique_names(probes: list[Probe]) -> tuple[Probe, ...]:
    """Generated names may repeat (`ping a -> b` written twice): number the repeats, so
    that every probe can be picked with `verify --probe NAME`."""
    seen: dict[str, int] = {}
    out = []
    for p in probes:
        n = seen.get(p.name, 0) + 1
        seen[p.name] = n
        out.append(p if n == 1 or p.name_given else replace(p, name=f"{p.name} #{n}"))
    return tuple(out)
