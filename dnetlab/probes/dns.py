"""`dns`: a name resolves in `from`, to exactly `address` when given, or not at all.

`nslookup NAME` uses the container's resolver; its exit code is not trusted (busybox exits
0 for a name without records): the check reads the answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from shlex import quote
from typing import Any, Literal

from dnetlab.probes.base import (
    Command,
    Fields,
    Path,
    ProbeBase,
    ProbeKind,
    References,
    Resolved,
    Verdict,
)
from dnetlab.probes.output import address, ip, last_words, lines


@dataclass(frozen=True)
class DnsProbe(ProbeBase):
    source: str
    query: str
    addresses: tuple[str, ...] = ()
    expect: Literal["resolves", "nxdomain"] = "resolves"
    type: Literal["dns"] = "dns"


def build(f: Fields) -> DnsProbe:
    v, p = f.raw, f.path
    addr = v.get("address")
    addresses = (addr,) if isinstance(addr, str) else tuple(addr or ())
    for j, a in enumerate(addresses):
        try:
            ip_address(str(a))
        except ValueError:
            ap: Path = (*p, "address") if isinstance(addr, str) else (*p, "address", j)
            f.out.error(ap, f"{a!r} is not an IP address")
    if addresses and v.get("expect") == "nxdomain":
        f.out.error((*p, "address"), "`address` makes no sense with expect: nxdomain")
    return DnsProbe(**f.common, source=f.source, query=v["name"], addresses=addresses,
                    expect=v.get("expect", "resolves"))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"dns {source}: {v.get('name')}"


def check_refs(p: DnsProbe, refs: References, path: Path) -> None:
    refs.container_ref(p.source, path, "from")


def command(r: Resolved[DnsProbe]) -> Command:
    return Command(f"nslookup {quote(r.probe.query)}", ("nslookup",))


# ---- its output ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    addresses: tuple[str, ...]  # every IPv4/IPv6 answer, normalised, in order, no repeats
    error: str | None = None  # why none came: "NXDOMAIN", "SERVFAIL", "no answer", ...

    @property
    def resolved(self) -> bool:
        return bool(self.addresses)


_CANT_FIND = re.compile(r"^\*\*\*? (?:server )?can't find [^:]*: (.+)$", re.IGNORECASE)
_ANSWER_ADDRESS = re.compile(r"^Address(?:es)?(?: \d+)?:\s*(.+)$")


def parse_nslookup(text: str) -> Lookup:
    """Addresses printed under a `Name:` line; the `Server:`/`Address:` header (busybox
    "127.0.0.11:53", bind "127.0.0.1#53") is not an answer. busybox prints one
    "Non-authoritative answer:" block per query type (A and AAAA, in either order), an
    empty block for a type with no records, and NXDOMAIN once per type."""
    found: list[str] = []
    errors: list[str] = []
    in_answer = False
    for raw in lines(text):
        line = raw.strip()
        if not line:
            in_answer = False
            continue
        if line.startswith("Name:"):
            in_answer = True
            continue
        m = _ANSWER_ADDRESS.match(line)
        if m and in_answer:
            # "Address: 10.0.0.2", old busybox "Address 1: 10.0.0.2 c2.lan",
            # "Addresses: 10.0.0.2, 10.0.0.3"
            for word in re.split(r"[\s,]+", m.group(1)):
                a = address(word)
                if a is not None and a not in found:
                    found.append(a)
            continue
        if line.startswith(("Server:", "Address")):
            continue
        m = _CANT_FIND.match(line)
        if m:
            errors.append(m.group(1).strip().rstrip("."))
            continue
        if "no servers could be reached" in line:
            errors.append("no servers could be reached")
            continue
        if line.startswith(";;") and not errors and "SERVFAIL" not in line:
            errors.append(line.lstrip("; "))
    if found:
        return Lookup(tuple(found))
    reason = next((e for e in errors if e == "no servers could be reached"), None)
    if reason is None and errors:
        reason = errors[0]
    if reason is not None and reason.lower() == "no answer":
        reason = "no answer"
    if reason is None:
        answered = any(line.strip().startswith(("Non-authoritative answer", "Authoritative"))
                       for line in lines(text))
        reason = "no answer" if answered else (last_words(text) or "no output")
    return Lookup((), reason)


def check(r: Resolved[DnsProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    res = parse_nslookup(output)
    q = p.query
    actual = f"{q} -> {', '.join(res.addresses)}" if res.resolved else f"{q}: {res.error}"
    if p.expect == "nxdomain":
        return Verdict(not res.resolved, f"{q}: no address (NXDOMAIN or no answer)", actual)
    if not p.addresses:
        return Verdict(res.resolved, f"{q} resolves", actual)
    want = {ip(a) for a in p.addresses}  # validated when the scenario was read
    got = {ip(a) for a in res.addresses}
    return Verdict(res.resolved and want == got, f"{q} -> {', '.join(p.addresses)}", actual)


# In a dns probe `name` is the query (spec section 7), so its label is generated.
DNS = ProbeKind(
    type_name="dns", probe=DnsProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.source, command=command, check=check, name_is_label=False)
