"""`interfaces`: the network interfaces `on` a container or host: names, addresses, MACs,
MTUs.

`ip -o link` and `ip -o addr`: names without the `@ifNN` suffix, MACs compared without
regard to case, `address/prefix` entries. `addresses` requires the listed entries (others
may exist too); `only` lists every interface there may be, except `lo` and the kernel's
automatic tunnel devices, which are ignored unless listed.

`same_as: host:KEY`: the interfaces must be those of that host's network namespace: the
same set of interface names, each with the same set of `address/prefix` entries (order,
MACs, MTUs, flags and states are not compared; `lo` and tunnel devices count like any
other). The probe's command runs where the probe runs, and the runner runs the very same
command through the host's helper in the same round (`ProbeKind.same_as`): the check
compares the two outputs (`Resolved.same_as_output`). Two reads are two moments: an
interface that comes or goes between them (another lab's veth) makes a difference;
`within` tries both again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_interface, ip_network
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
from dnetlab.probes.output import SECTION, last_line, lines
from dnetlab.probes.wording import Part, combine, differences, names

IfaceLists = tuple[tuple[str, tuple[str, ...]], ...]  # interface -> its entries, in file order


@dataclass(frozen=True)
class InterfacesProbe(ProbeBase):
    on: str  # container key, or "host:<key>"
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    addresses: IfaceLists = ()
    subnets: IfaceLists = ()
    mac: tuple[tuple[str, str], ...] = ()
    mtu: tuple[tuple[str, int], ...] = ()
    same_as: str | None = None  # "host:<key>": the same interfaces and addresses as there
    type: Literal["interfaces"] = "interfaces"


def build(f: Fields) -> InterfacesProbe:
    v, p = f.raw, f.path
    return InterfacesProbe(
        **f.common, on=v["on"], present=tuple(v.get("present", ())),
        absent=tuple(v.get("absent", ())),
        only=tuple(v["only"]) if "only" in v else None,
        addresses=_iface_lists(v.get("addresses"), (*p, "addresses"), True, f.out),
        subnets=_iface_lists(v.get("subnets"), (*p, "subnets"), False, f.out),
        mac=tuple((k, m.lower()) for k, m in (v.get("mac") or {}).items()),
        mtu=tuple((v.get("mtu") or {}).items()), same_as=v.get("same_as"))


def _iface_lists(raw: dict[str, list[str]] | None, p: Path, with_host: bool,
                 out: FieldErrors) -> IfaceLists:
    result = []
    for iface, items in (raw or {}).items():
        for j, item in enumerate(items):
            if not isinstance(item, str):
                continue  # the schema said so; ip_network would take a bool for 0 or 1
            try:
                if with_host:
                    if "/" not in item:
                        raise ValueError("needs a prefix length, as 10.0.0.5/24")
                    ip_network(item, strict=False)
                else:
                    ip_network(item, strict=True)
            except ValueError as exc:
                what = "an address/prefix" if with_host else "a CIDR network"
                out.error((*p, iface, j), f"{item!r} is not {what}: {exc}")
        result.append((iface, tuple(items)))
    return tuple(result)


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"interfaces {v.get('on')}"


def check_refs(p: InterfacesProbe, refs: References, path: Path) -> None:
    refs.on_ref(p.on, (*path, "on"))
    if p.same_as is not None:
        refs.on_ref(p.same_as, (*path, "same_as"))
    if p.only is not None:
        for k in ("present",):
            extra = [i for i in getattr(p, k) if i not in p.only]
            if extra:
                refs.error((*path, k), f"{', '.join(extra)} cannot be present when `only` "
                           f"lists {', '.join(p.only)}")


def command(r: Resolved[InterfacesProbe]) -> Command:
    return Command(f"ip -o link show; echo {SECTION}; ip -o addr show", ("ip",))


# ---- its output ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interface:
    name: str  # without the "@ifNN" (or "@peer") suffix
    flags: tuple[str, ...] = ()  # "UP", "LOWER_UP", ...
    mtu: int | None = None
    state: str | None = None  # iproute2's operstate ("UP", "DOWN", "UNKNOWN"); busybox: None
    mac: str | None = None  # lower case
    addresses: tuple[str, ...] = ()  # "10.0.0.5/24", "fd00::5/64"

    @property
    def up(self) -> bool:
        return "UP" in self.flags


_LINK = re.compile(r"^\s*\d+:\s+([^:@\s]+)(?:@[^:\s]*)?:\s+<([^>]*)>(.*)$")
_ADDR = re.compile(r"^\s*\d+:\s+([^:@\s]+)(?:@\S*)?\s+(inet6?)\s+(\S+)(.*)$")
_MAC = re.compile(r"\blink/\S+\s+([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5})\b")


def parse_interfaces(text: str) -> dict[str, Interface]:
    """`ip -o link show; echo SECTION; ip -o addr show`: one line per link, one per
    address. Lines of neither kind ("Dump was interrupted ...") are skipped."""
    links: dict[str, Interface] = {}
    addresses: dict[str, list[str]] = {}
    for line in lines(text):
        m = _LINK.match(line)
        if m:
            name, rest = m.group(1), m.group(3)
            mtu = re.search(r"\bmtu (\d+)", rest)
            state = re.search(r"\bstate ([A-Za-z_]+)", rest)
            mac = _MAC.search(rest)
            links[name] = Interface(
                name, tuple(f for f in m.group(2).split(",") if f),
                int(mtu.group(1)) if mtu else None, state.group(1) if state else None,
                mac.group(1).lower() if mac else None)
            continue
        m = _ADDR.match(line)
        if m:
            name, family, value = m.group(1), m.group(2), m.group(3)
            peer = re.search(r"\bpeer (\S+)", m.group(4))
            if "/" not in value:  # "inet 10.0.0.1 peer 10.0.0.2/32": the peer's prefix
                value += "/" + (peer.group(1).split("/")[1] if peer and "/" in peer.group(1)
                                else ("128" if family == "inet6" else "32"))
            try:
                value = str(ip_interface(value))
            except ValueError:
                continue
            addresses.setdefault(name, [])
            if value not in addresses[name]:
                addresses[name].append(value)
    for name, addrs in addresses.items():
        base = links.get(name, Interface(name))
        links[name] = Interface(base.name, base.flags, base.mtu, base.state, base.mac,
                                tuple(addrs))
    return links


# Devices the kernel puts in every network namespace once a tunnel module is loaded: never
# a lab's own interfaces, so `only` does not count them (nor `lo`) unless they are listed.
IMPLICIT_INTERFACES = frozenset({
    "lo", "tunl0", "gre0", "gretap0", "erspan0", "ip_vti0", "ip6_vti0", "sit0", "ip6tnl0",
    "ip6gre0",
})


def _iface_addresses(i: Interface) -> str:
    return " ".join(i.addresses) or "no address"


def check(r: Resolved[InterfacesProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    have = parse_interfaces(output)
    seen = list(have)
    parts: list[Part] = []
    if p.present:
        missing = [n for n in p.present if n not in have]
        parts.append(Part(f"present: {names(p.present)}",
                          f"missing: {names(missing)} (have {names(seen)})" if missing
                          else f"present: {names(p.present)}", not missing))
    if p.absent:
        there = [n for n in p.absent if n in have]
        parts.append(Part(f"absent: {names(p.absent)}",
                          f"present: {names(there)}" if there
                          else f"absent: {names(p.absent)}", not there))
    if p.only is not None:
        counted = [n for n in seen if n in p.only or n not in IMPLICIT_INTERFACES]
        parts.append(Part(f"only: {names(p.only)}", f"interfaces: {names(counted)}",
                          set(counted) == set(p.only)))
    for iface, addrs in p.addresses:
        i = have.get(iface)
        want = [ip_interface(a) for a in addrs]
        got = [ip_interface(a) for a in i.addresses] if i else []
        parts.append(Part(f"{iface} {' '.join(addrs)}",
                          f"{iface} {_iface_addresses(i)}" if i else f"no {iface}",
                          i is not None and all(w in got for w in want)))
    for iface, cidrs in p.subnets:
        i = have.get(iface)
        ips = [ip_interface(a).ip for a in i.addresses] if i else []
        ok = i is not None and all(
            any(a in ip_network(c, strict=False) for a in ips) for c in cidrs)
        parts.append(Part(f"{iface} in {' '.join(cidrs)}",
                          f"{iface} {_iface_addresses(i)}" if i else f"no {iface}", ok))
    for iface, mac in p.mac:
        i = have.get(iface)
        got_mac = i.mac if i else None
        parts.append(Part(f"{iface} mac {mac.lower()}",
                          (f"{iface} mac {got_mac or 'none'}") if i else f"no {iface}",
                          got_mac is not None and got_mac == mac.lower()))
    for iface, mtu in p.mtu:
        i = have.get(iface)
        got_mtu = i.mtu if i else None
        parts.append(Part(f"{iface} mtu {mtu}",
                          (f"{iface} mtu {got_mtu if got_mtu is not None else 'unknown'}")
                          if i else f"no {iface}", got_mtu == mtu))
    if p.same_as is not None:
        parts.append(_same_as(p.same_as, have, r.same_as_output or ""))
    if not have:
        said = last_line(output) or "no output"
        return Verdict(False, "; ".join(x.expected for x in parts) or "interfaces listed",
                       f"no interfaces read: {said}")
    return combine(parts, "interfaces listed", f"interfaces: {names(seen)}")


def _listing(have: Mapping[str, Interface]) -> list[str]:
    """One entry per interface and address ("eth0 10.0.0.5/24"; "eth1" without one)."""
    return [f"{i.name} {a}" for i in have.values() for a in i.addresses] + [
        i.name for i in have.values() if not i.addresses]


def _same_as(where: str, have: Mapping[str, Interface], there_output: str) -> Part:
    there = parse_interfaces(there_output)
    expected = f"the same interfaces and addresses as {where}"
    if not there:
        said = last_line(there_output) or "no output"
        return Part(expected, f"no interfaces read on {where}: {said}", False)
    diff = differences(_listing(have), _listing(there), where)
    return Part(expected, diff or f"the same {len(have)} interfaces as {where}", not diff)


INTERFACES = ProbeKind(
    type_name="interfaces", probe=InterfacesProbe, build=build, name=name,
    check_refs=check_refs, runs_on=lambda p: p.on, command=command, check=check,
    same_as=lambda p: p.same_as)
