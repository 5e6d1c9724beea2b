"""`routes`: the IPv4 routing table `on` a container or host (`ip route`).

`default_via: none` means no default route at all; with several default routes, one via
that gateway is enough. A `contains` entry is `DEST`, `DEST via GATEWAY` or `DEST dev
IFACE`.

`same_as: host:KEY`: the table must be that host's: the same set of routes (destination,
gateway, device and type; order, `proto`, `scope`, `src` and `metric` are not compared).
The runner runs the same `ip route show` through the host's helper in the same round and
the check compares the two outputs (see `interfaces` for the design).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address, ip_interface, ip_network
from typing import Any, Literal

from dnetlab.probes.base import (
    Command,
    FieldErrors,
    Fields,
    Path,
    ProbeBase,
    ProbeKind,
    References,
    Resolved,
    Verdict,
)
from dnetlab.probes.output import address, last_line, lines
from dnetlab.probes.wording import Part, combine, differences, plural


@dataclass(frozen=True)
class RoutesProbe(ProbeBase):
    on: str
    default_via: str | None = None  # an address, or "none"
    contains: tuple[str, ...] = ()
    same_as: str | None = None  # "host:<key>": the same routes as there
    type: Literal["routes"] = "routes"


def build(f: Fields) -> RoutesProbe:
    v = f.raw
    on = v["on"]
    _check_fields(v, f.path, f.out)
    return RoutesProbe(**f.common, on=on, default_via=v.get("default_via"),
                       contains=tuple(v.get("contains", ())), same_as=v.get("same_as"))


def _check_fields(v: Mapping[str, Any], p: Path, out: FieldErrors) -> None:
    dv = v.get("default_via")
    if dv is not None and dv != "none":
        try:
            ip_address(dv)
        except ValueError:
            out.error((*p, "default_via"), f"{dv!r} is neither an address nor 'none'")
    for j, entry in enumerate(v.get("contains", ())):
        words = entry.split()
        ok = bool(words) and len(words) in (1, 3)
        if ok and words[0] != "default":
            try:
                ip_network(words[0], strict=True)
            except ValueError:
                ok = False
        if ok and len(words) == 3:
            if words[1] == "via":
                try:
                    ip_address(words[2])
                except ValueError:
                    ok = False
            elif words[1] != "dev":
                ok = False
        if not ok:
            out.error((*p, "contains", j), f"{entry!r} is not a route",
                      "write DEST, DEST via GATEWAY or DEST dev IFACE, DEST a CIDR "
                      "or `default`")


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"routes {v.get('on')}"


def check_refs(p: RoutesProbe, refs: References, path: Path) -> None:
    refs.on_ref(p.on, (*path, "on"))
    if p.same_as is not None:
        refs.on_ref(p.same_as, (*path, "same_as"))


def command(r: Resolved[RoutesProbe]) -> Command:
    return Command("ip route show", ("ip",))


# ---- its output ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    dest: str  # "default" or a CIDR ("10.0.0.0/24"; a host route "10.0.0.5" as "10.0.0.5/32")
    via: str | None = None
    dev: str | None = None
    kind: str | None = None  # "blackhole", "unreachable", "prohibit", ...; None: unicast

    def __str__(self) -> str:
        words = [self.kind] if self.kind else []
        words.append(self.dest)
        if self.via:
            words += ["via", self.via]
        if self.dev:
            words += ["dev", self.dev]
        return " ".join(words)


@dataclass(frozen=True)
class RouteTable:
    routes: tuple[Route, ...]


_ROUTE_TYPES = {"unicast", "local", "broadcast", "multicast", "throw", "unreachable",
                "prohibit", "blackhole", "nat", "anycast"}


def _route_dest(word: str) -> str:
    if word == "default":
        return word
    try:
        return str(ip_interface(word).network)
    except ValueError:
        return word


def _route_attrs(words: list[str]) -> tuple[str | None, str | None]:
    via = dev = None
    for i, word in enumerate(words[:-1]):
        if word == "via" and via is None:
            nxt = words[i + 1]
            if nxt in ("inet", "inet6") and i + 2 < len(words):  # "via inet6 fe80::1"
                nxt = words[i + 2]
            via = address(nxt) or nxt
        elif word == "dev" and dev is None:
            dev = words[i + 1]
    return via, dev


def parse_routes(text: str) -> RouteTable:
    """`ip route show`: "default via 10.0.0.1 dev eth0", "10.0.0.0/24 dev eth0 scope link
    src 10.0.0.5", "blackhole 10.9.0.0/24"; multipath "nexthop via ..." lines as routes of
    the line before."""
    routes: list[Route] = []
    last: Route | None = None
    for line in lines(text):
        words = line.split()
        if not words:
            continue
        if words[0] == "nexthop" and last is not None:
            via, dev = _route_attrs(words)
            routes.append(Route(last.dest, via, dev, last.kind))
            continue
        kind = None
        if words[0] in _ROUTE_TYPES and len(words) > 1:
            kind = None if words[0] == "unicast" else words[0]
            words = words[1:]
        dest = _route_dest(words[0])
        if dest != "default" and "/" not in dest:
            last = None  # not a route line
            continue
        via, dev = _route_attrs(words)
        last = Route(dest, via, dev, kind)
        if via is not None or dev is not None or kind is not None:
            routes.append(last)
        # else a multipath route ("default proto static"): its "nexthop" lines follow
    return RouteTable(tuple(routes))


def _route_entry(entry: str) -> tuple[str, str | None, str | None]:
    """A `contains` entry ("10.0.0.0/24", "10.0.0.0/24 via 10.0.0.1", "default dev eth0")
    as (destination, via, dev), normalised like the parsed table."""
    words = entry.split()
    dest = words[0] if words[0] == "default" else str(ip_network(words[0], strict=False))
    via = dev = None
    if len(words) >= 3 and words[1] == "via":
        via = str(ip_address(words[2]))
    elif len(words) >= 3 and words[1] == "dev":
        dev = words[2]
    return dest, via, dev


def check(r: Resolved[RoutesProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    table = parse_routes(output)
    defaults = [rt for rt in table.routes if rt.dest == "default" and not rt.kind]
    shown_default = ", ".join(str(rt) for rt in defaults) or "no default route"
    parts: list[Part] = []
    if p.default_via is not None:
        if p.default_via == "none":
            parts.append(Part("no default route", shown_default, not defaults))
        else:
            want = str(ip_address(p.default_via))
            parts.append(Part(f"default via {want}", shown_default,
                              any(rt.via == want for rt in defaults)))
    for entry in p.contains:
        dest, via, dev = _route_entry(entry)
        same: list[Route] = [rt for rt in table.routes if rt.dest == dest]
        match = [rt for rt in same
                 if (via is None or rt.via == via) and (dev is None or rt.dev == dev)]
        seen = match[:1] or same
        parts.append(Part(f"route {entry}", ", ".join(str(rt) for rt in seen)
                          or f"no route for {dest}", bool(match)))
    if p.same_as is not None:
        there = parse_routes(r.same_as_output or "")
        diff = differences([str(rt) for rt in table.routes],
                           [str(rt) for rt in there.routes], p.same_as)
        if not there.routes:
            said = last_line(r.same_as_output or "") or "no output"
            diff = f"no routes read on {p.same_as}: {said}"
        parts.append(Part(f"the same routes as {p.same_as}",
                          diff or f"the same {plural(len(table.routes), 'route')} as "
                          f"{p.same_as}", not diff))
    return combine(parts, "a routing table", plural(len(table.routes), "route"))


ROUTES = ProbeKind(
    type_name="routes", probe=RoutesProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.on, command=command, check=check, same_as=lambda p: p.same_as)
