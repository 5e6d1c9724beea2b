"""Parsers for the output of the probes' commands (see `commands`). Pure: text in, data out.

Each reads busybox 1.35 and the usual Debian tools alike (iputils `ping`, bind9 `nslookup`,
GNU `traceroute`, iproute2 `ip`, GNU `wget`), and never raises on text it does not know:
what it cannot read is left out, and the checker says what it saw. The formats, as
captured from the real tools, live in tests/captured/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import ip_address, ip_interface

from dnetlab.verify.commands import SECTION


def _address(text: str) -> str | None:
    """`text` as a normalised IP address, or None when it is not one."""
    try:
        return str(ip_address(text.split("%", 1)[0]))
    except ValueError:
        return None


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]


def _last_words(text: str) -> str | None:
    """The last non-empty line: what a failed tool said."""
    lines = [line.strip() for line in _lines(text) if line.strip()]
    return lines[-1] if lines else None


# ---- ping ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ping:
    transmitted: int
    received: int
    loss: float | None  # percent; None when no statistics came (the ping could not start)
    errors: int = 0  # iputils "+N errors": ICMP errors such as host unreachable
    error: str | None = None  # why there are no statistics: "bad address 'x'"


_PING_STATS = re.compile(
    r"(\d+) packets transmitted, (\d+) (?:packets )?received"
    r"(?:, \+(\d+) duplicates)?(?:, \+(\d+) errors)?(?:, \+\d+ corrupted)?"
    r"(?:, ([\d.]+)% packet loss)?")


def parse_ping(text: str) -> Ping:
    """busybox: "3 packets transmitted, 3 packets received, 0% packet loss";
    iputils: "3 packets transmitted, 3 received, +2 errors, 0% packet loss, time 2003ms"."""
    for line in _lines(text):
        m = _PING_STATS.search(line)
        if m:
            tx, rx = int(m.group(1)), int(m.group(2))
            loss = float(m.group(5)) if m.group(5) else (
                100.0 * (tx - rx) / tx if tx else 100.0)
            return Ping(tx, rx, loss, int(m.group(4) or 0))
    error = _last_words(text)
    if error and error.startswith("ping: "):
        error = error[len("ping: "):]
    return Ping(0, 0, None, 0, error or "no output")


# ---- nslookup --------------------------------------------------------------------------------

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
    for raw in _lines(text):
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
                a = _address(word)
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
                       for line in _lines(text))
        reason = "no answer" if answered else (_last_words(text) or "no output")
    return Lookup((), reason)


# ---- wget ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpResponse:
    status: int | None  # the last HTTP status line seen (after redirects); None: no response
    body: str
    error: str | None  # what wget said when it failed: "Connection refused", "bad address"


# a status line of -S ("  HTTP/1.1 200 OK"), or busybox's "server returned error: HTTP/..."
_HTTP_STATUS = re.compile(r"^(?:\s*|wget: server returned error: )HTTP/\d(?:\.\d)?\s+(\d{3})\b")
_WGET_ERROR = re.compile(r"^(?:wget: |.*\bfailed: |.*\bERROR \d+: |Segmentation fault)")


def parse_wget(text: str) -> HttpResponse:
    """wget -S writes the response headers ("  HTTP/1.1 200 OK") and its errors
    ("wget: server returned error: HTTP/1.1 404 Not Found") to stderr, printed before the
    section marker; the body follows the marker."""
    lines = _lines(text)
    try:
        cut = lines.index(SECTION)
    except ValueError:
        head, body = lines, []
    else:
        head, body = lines[:cut], lines[cut + 1:]
    status: int | None = None
    errors: list[str] = []
    for line in head:
        m = _HTTP_STATUS.match(line)
        if m:
            status = int(m.group(1))
        if _WGET_ERROR.match(line.strip()):
            errors.append(line.strip())
    error = errors[-1] if errors else None
    if error is None and status is None:
        error = _last_words("\n".join(head)) or "no output"
    return HttpResponse(status, "\n".join(body), _short_wget_error(error))


def _short_wget_error(error: str | None) -> str | None:
    if error is None:
        return None
    if error.startswith("wget: "):
        error = error[len("wget: "):]
    m = re.search(r"\bfailed: (.+?)\.?$", error)  # GNU: "Connecting to x... failed: ..."
    return m.group(1) if m else error


# ---- traceroute ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hop:
    ttl: int
    address: str | None  # None: no answer ("*")
    note: str | None = None  # an ICMP error flag such as "!H": the probe did not get through

    def __str__(self) -> str:
        text = self.address or "*"
        return f"{text} {self.note}" if self.note else text


@dataclass(frozen=True)
class Trace:
    destination: str | None  # the address traceroute aimed at (from its header)
    hops: tuple[Hop, ...]
    error: str | None = None  # why it did not run: "bad address 'x'"

    @property
    def reached_at(self) -> int | None:
        """The number of hops up to and including the destination; None: not reached."""
        for n, hop in enumerate(self.hops, 1):
            if hop.address is not None and hop.address == self.destination and not hop.note:
                return n
        return None


_TRACE_HEADER = re.compile(r"^traceroute6? to (\S+) \(([^)]+)\)")
_TRACE_HOP = re.compile(r"^\s*(\d+)\s+(.*)$")


def parse_traceroute(text: str) -> Trace:
    """`traceroute -n -q 1`: " 1  10.201.0.11  0.050 ms", " 2  *", " 4  10.0.0.1  3.1 ms !H"
    after the header "traceroute to X (X), 10 hops max, 46 byte packets"."""
    destination: str | None = None
    hops: list[Hop] = []
    other: list[str] = []
    for line in _lines(text):
        m = _TRACE_HEADER.match(line)
        if m:
            destination = _address(m.group(2)) or _address(m.group(1))
            continue
        m = _TRACE_HOP.match(line)
        if not m:
            if line.strip():
                other.append(line.strip())
            continue
        address: str | None = None
        note: str | None = None
        for word in m.group(2).replace("(", " ").replace(")", " ").split():
            if address is None:
                address = _address(word)
            if word.startswith("!") and note is None:
                note = word
        hops.append(Hop(int(m.group(1)), address, note))
    error = None
    if not hops:
        error = other[0] if other else "no output"
        if error.startswith("traceroute: "):
            error = error[len("traceroute: "):]
    return Trace(destination, tuple(hops), error)


# ---- ip link / ip addr -----------------------------------------------------------------------

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
    for line in _lines(text):
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


# ---- ip route --------------------------------------------------------------------------------

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
            via = _address(nxt) or nxt
        elif word == "dev" and dev is None:
            dev = words[i + 1]
    return via, dev


def parse_routes(text: str) -> RouteTable:
    """`ip route show`: "default via 10.0.0.1 dev eth0", "10.0.0.0/24 dev eth0 scope link
    src 10.0.0.5", "blackhole 10.9.0.0/24"; multipath "nexthop via ..." lines as routes of
    the line before."""
    routes: list[Route] = []
    last: Route | None = None
    for line in _lines(text):
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
