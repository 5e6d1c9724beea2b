"""`dns`: a name resolves in `from`, to exactly `address` when given, or not at all.

`nslookup QUERY` uses the container's resolver; its exit code is not trusted (busybox exits
0 for a name without records): the check reads the answers. `query` is the name to
resolve; a file without `query` gives it as `name` (spec section 7), and then the probe's
label is generated.

Three ways for no address to come back, told apart (spec section 10.1): a resolver
answered NXDOMAIN (the name does not exist); no resolver answered at all ("no answer":
a timeout, nothing listening, busybox's "no servers could be reached"); or anything else
(SERVFAIL, an answer without an address, a name nslookup refuses). `expect: nxdomain`
passes only on the first; `unresolved` on any of them, and `actual` says which.
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
    expect: Literal["resolves", "nxdomain", "unresolved"] = "resolves"
    query_key: Literal["query", "name"] = "name"  # the field that holds it, for messages
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
    if addresses and v.get("expect") in ("nxdomain", "unresolved"):
        f.out.error((*p, "address"), f"`address` makes no sense with expect: {v['expect']}")
    return DnsProbe(**f.common, source=f.source, query=query_of(v), addresses=addresses,
                    expect=v.get("expect", "resolves"),
                    query_key="query" if "query" in v else "name")


def query_of(v: Mapping[str, Any]) -> str:
    """The name to resolve: `query`, else (a file without `query`) `name`."""
    return str(v["query"] if "query" in v else v["name"])


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"dns {source}: {v.get('query', v.get('name'))}"


def check_refs(p: DnsProbe, refs: References, path: Path) -> None:
    refs.container_ref(p.source, path, "from")
    refs.hostname_ref(p.query, (*path, p.query_key))


def command(r: Resolved[DnsProbe]) -> Command:
    return Command(f"nslookup {quote(r.probe.query)}", ("nslookup",))


# ---- its output ------------------------------------------------------------------------------

NXDOMAIN = "NXDOMAIN"
NO_ANSWER = "no answer"
NO_ADDRESS = "answered without an address"


@dataclass(frozen=True)
class Lookup:
    addresses: tuple[str, ...]  # every IPv4/IPv6 answer, normalised, in order, no repeats
    # why none came: "NXDOMAIN", "SERVFAIL", "no answer (...)", "answered without an
    # address", or what nslookup said
    error: str | None = None

    @property
    def resolved(self) -> bool:
        return bool(self.addresses)

    @property
    def nxdomain(self) -> bool:
        """A resolver answered that the name does not exist."""
        return not self.addresses and self.error == NXDOMAIN

    @property
    def no_answer(self) -> bool:
        """No resolver answered: a timeout, or none could be reached."""
        return not self.addresses and (self.error or "").startswith(NO_ANSWER)


_CANT_FIND = re.compile(r"^\*\*\*? (?:server )?can't find [^:]*: (.+)$", re.IGNORECASE)
_ANSWER_ADDRESS = re.compile(r"^Address(?:es)?(?: \d+)?:\s*(.+)$")
_UNREACHED = ("no servers could be reached", "connection timed out")


def parse_nslookup(text: str) -> Lookup:
    """Addresses printed under a `Name:` line; the `Server:`/`Address:` header (busybox
    "127.0.0.11:53", bind "127.0.0.1#53") is not an answer. busybox prints one
    "Non-authoritative answer:" block per query type (A and AAAA, in either order), an
    empty block for a type with no records, and NXDOMAIN once per type. When no resolver
    answers, busybox prints ";; connection timed out; no servers could be reached" and
    maybe why ("nslookup: write to '127.0.0.1': Connection refused"), bind one
    ";; communications error to ..." line per try."""
    found: list[str] = []
    errors: list[str] = []
    unreached = False
    details: list[str] = []  # why no resolver answered, as the tool said it
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
        if any(u in line for u in _UNREACHED):
            unreached = True
            continue
        if line.startswith("nslookup: "):
            details.append(line[len("nslookup: "):])
            continue
        if line.startswith(";;") and "SERVFAIL" not in line:
            said = line.lstrip("; ")
            if said.startswith("communications error"):
                details.append(said)
            elif not errors:
                errors.append(said)
    if found:
        return Lookup(tuple(found))
    if unreached:
        why = details[0] if details else "no servers could be reached"
        return Lookup((), f"{NO_ANSWER} ({why})")
    reason = errors[0] if errors else None
    if reason is not None and reason.lower() == "no answer":
        reason = NO_ADDRESS  # bind: the resolver answered, without a record of that type
    if reason is None:
        answered = any(line.strip().startswith(("Non-authoritative answer", "Authoritative"))
                       for line in lines(text))
        reason = NO_ADDRESS if answered else (
            details[0] if details else (last_words(text) or "no output"))
    return Lookup((), reason)


def check(r: Resolved[DnsProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    res = parse_nslookup(output)
    q = p.query
    actual = f"{q} -> {', '.join(res.addresses)}" if res.resolved else f"{q}: {res.error}"
    if p.expect == "nxdomain":
        return Verdict(res.nxdomain, f"{q}: NXDOMAIN (a resolver answers that it does not "
                       "exist)", actual)
    if p.expect == "unresolved":
        return Verdict(not res.resolved, f"{q}: no address (NXDOMAIN, no answer or an error)",
                       actual)
    if not p.addresses:
        return Verdict(res.resolved, f"{q} resolves", actual)
    want = {ip(a) for a in p.addresses}  # validated when the scenario was read
    got = {ip(a) for a in res.addresses}
    return Verdict(res.resolved and want == got, f"{q} -> {', '.join(p.addresses)}", actual)


# Without `query`, `name` is the query (spec section 7), so the label is generated.
DNS = ProbeKind(
    type_name="dns", probe=DnsProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.source, command=command, check=check,
    name_is_label=lambda v: "query" in v)
