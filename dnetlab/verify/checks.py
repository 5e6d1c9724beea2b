"""Judge one run of a probe: its exit code and output against the probe's fields (spec
section 7). Pure: resolved probe and output in, `Verdict` out; one try only (retrying
within `within` is the runner's job).

`expected` and `actual` are short words for a table: a failed verdict names what was
asked for and what was seen (`expected "1 hop"`, `actual "3 hops: 10.70.0.1 10.71.0.1
10.71.0.20"`). For the probes with several fields, a failed verdict shows only the parts
that failed; a passed one shows them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_interface, ip_network

from dnetlab.model import (
    DnsProbe,
    ExecProbe,
    FileProbe,
    HttpProbe,
    InterfacesProbe,
    PingProbe,
    RoutesProbe,
    TcpProbe,
    TracerouteProbe,
)
from dnetlab.verify.outcome import Resolved, Verdict
from dnetlab.verify.parse import (
    Hop,
    Interface,
    Route,
    Trace,
    parse_interfaces,
    parse_nslookup,
    parse_ping,
    parse_routes,
    parse_traceroute,
    parse_wget,
)

# Devices the kernel puts in every network namespace once a tunnel module is loaded: never
# a lab's own interfaces, so `only` does not count them (nor `lo`) unless they are listed.
IMPLICIT_INTERFACES = frozenset({
    "lo", "tunl0", "gre0", "gretap0", "erspan0", "ip_vti0", "ip6_vti0", "sit0", "ip6tnl0",
    "ip6gre0",
})


def check(r: Resolved, exit_code: int, output: str) -> Verdict:
    p = r.probe
    if isinstance(p, PingProbe):
        return _ping(p, output)
    if isinstance(p, DnsProbe):
        return _dns(p, output)
    if isinstance(p, TcpProbe):
        return _tcp(p, r, exit_code, output)
    if isinstance(p, HttpProbe):
        return _http(p, exit_code, output)
    if isinstance(p, TracerouteProbe):
        return _traceroute(p, r, output)
    if isinstance(p, InterfacesProbe):
        return _interfaces(p, output)
    if isinstance(p, RoutesProbe):
        return _routes(p, output)
    if isinstance(p, FileProbe):
        return _file(p, exit_code, output)
    if isinstance(p, ExecProbe):
        return _exec(p, exit_code, output)
    raise TypeError(f"no check for probe type {p.type}")  # pragma: no cover


# ---- helpers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Part:
    expected: str
    actual: str
    ok: bool


def _combine(parts: Sequence[_Part], expected_if_none: str, actual_if_none: str) -> Verdict:
    if not parts:
        return Verdict(True, expected_if_none, actual_if_none)
    failed = [p for p in parts if not p.ok]
    shown = failed or list(parts)
    return Verdict(not failed, "; ".join(p.expected for p in shown),
                   "; ".join(p.actual for p in shown))


def _pct(value: float) -> str:
    return f"{value:g}%"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text)
    except ValueError:
        return None


def _last_line(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else None


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "none"


# ---- ping ------------------------------------------------------------------------------------

def _ping(p: PingProbe, output: str) -> Verdict:
    res = parse_ping(output)
    if res.loss is None:
        actual = f"no replies: {res.error}"
    elif res.received == 0:
        actual = f"0/{res.transmitted} replies ({_pct(res.loss)} loss)"
    else:
        actual = f"{res.received}/{res.transmitted} replies, {_pct(res.loss)} loss"
    if res.errors:
        actual += f", {_plural(res.errors, 'ICMP error')}"
    if p.expect == "unreachable":
        return Verdict(res.received == 0, "unreachable (no replies)", actual)
    passed = res.received > 0 and res.loss is not None and res.loss <= p.max_loss
    return Verdict(passed, f"reachable (loss <= {_pct(p.max_loss)})", actual)


# ---- dns -------------------------------------------------------------------------------------

def _dns(p: DnsProbe, output: str) -> Verdict:
    res = parse_nslookup(output)
    q = p.query
    actual = f"{q} -> {', '.join(res.addresses)}" if res.resolved else f"{q}: {res.error}"
    if p.expect == "nxdomain":
        return Verdict(not res.resolved, f"{q}: no address (NXDOMAIN or no answer)", actual)
    if not p.addresses:
        return Verdict(res.resolved, f"{q} resolves", actual)
    want = {_ip(a) for a in p.addresses}  # validated when the scenario was read
    got = {_ip(a) for a in res.addresses}
    return Verdict(res.resolved and want == got, f"{q} -> {', '.join(p.addresses)}", actual)


# ---- tcp -------------------------------------------------------------------------------------

def _tcp_failure(exit_code: int, output: str) -> str:
    low = output.lower()
    if "refused" in low:
        return "refused"
    if "timed out" in low or "timeout" in low:
        return "timed out"
    said = _last_line(output)
    if said is None:
        return f"not connected (exit {exit_code})"
    for prefix in ("nc: ", "Ncat: "):
        if said.startswith(prefix):
            said = said[len(prefix):]
    return f"not connected: {said}"


def _tcp(p: TcpProbe, r: Resolved, exit_code: int, output: str) -> Verdict:
    where = f"{r.address or p.target.text}:{p.port}"
    actual = f"{where} open" if exit_code == 0 else f"{where} {_tcp_failure(exit_code, output)}"
    if p.expect == "closed":
        return Verdict(exit_code != 0, f"{where} closed (refused or timed out)", actual)
    return Verdict(exit_code == 0, f"{where} open", actual)


# ---- http ------------------------------------------------------------------------------------

# exit codes of a command killed on a deadline: `timeout` (124), SIGTERM (143), SIGKILL (137)
_KILLED = (124, 137, 143)


def _http(p: HttpProbe, exit_code: int, output: str) -> Verdict:
    res = parse_wget(output)
    expected = f"status {p.status}"
    if p.contains is not None:
        expected += f", body contains {_quote(p.contains)}"
    if res.status is None:
        if exit_code in _KILLED:
            return Verdict(False, expected, f"no response: timed out (exit {exit_code})")
        return Verdict(False, expected, f"no response: {res.error}")
    actual = f"status {res.status}"
    has = True
    if p.contains is not None:
        has = p.contains in res.body
        actual += f", body {'contains' if has else 'without'} {_quote(p.contains)}"
    return Verdict(res.status == p.status and has, expected, actual)


# ---- traceroute ------------------------------------------------------------------------------

def _hop_matches(hop: Hop, want: str, r: Resolved) -> bool:
    if hop.address is None:
        return False
    if want in r.addresses_of:
        return hop.address in {str(ip_address(a)) for a in r.addresses_of[want] if _ip(a)}
    wanted = _ip(want)
    return wanted is not None and str(wanted) == hop.address


def _traceroute(p: TracerouteProbe, r: Resolved, output: str) -> Verdict:
    trace: Trace = parse_traceroute(output)
    if trace.destination is None and r.address and _ip(r.address):
        trace = replace(trace, destination=str(ip_address(r.address)))
    dest = trace.destination or r.address or p.target.text
    parts = []
    if p.hops is not None:
        parts.append(_plural(p.hops, "hop"))
    if p.path is not None:
        parts.append("path " + " ".join(p.path))
    if p.via is not None:
        parts.append(f"via {p.via}")
    expected = ", ".join(parts) or f"reaches {dest}"
    n = trace.reached_at
    if not trace.hops:
        return Verdict(False, expected, f"no trace: {trace.error}")
    if n is None:
        hops = " ".join(str(h) for h in trace.hops)
        return Verdict(False, expected,
                       f"{dest} not reached in {_plural(len(trace.hops), 'hop')}: {hops}")
    taken = trace.hops[:n]
    actual = f"{_plural(n, 'hop')}: {' '.join(str(h) for h in taken)}"
    passed = True
    if p.hops is not None and n != p.hops:
        passed = False
    if p.path is not None and (len(p.path) != n or not all(
            _hop_matches(h, want, r) for h, want in zip(taken, p.path, strict=False))):
        passed = False
    if p.via is not None and not any(_hop_matches(h, p.via, r) for h in taken):
        passed = False
    return Verdict(passed, expected, actual)


# ---- interfaces ------------------------------------------------------------------------------

def _iface_addresses(i: Interface) -> str:
    return " ".join(i.addresses) or "no address"


def _interfaces(p: InterfacesProbe, output: str) -> Verdict:
    have = parse_interfaces(output)
    names = list(have)
    parts: list[_Part] = []
    if p.present:
        missing = [n for n in p.present if n not in have]
        parts.append(_Part(f"present: {_names(p.present)}",
                           f"missing: {_names(missing)} (have {_names(names)})" if missing
                           else f"present: {_names(p.present)}", not missing))
    if p.absent:
        there = [n for n in p.absent if n in have]
        parts.append(_Part(f"absent: {_names(p.absent)}",
                           f"present: {_names(there)}" if there
                           else f"absent: {_names(p.absent)}", not there))
    if p.only is not None:
        counted = [n for n in names if n in p.only or n not in IMPLICIT_INTERFACES]
        parts.append(_Part(f"only: {_names(p.only)}", f"interfaces: {_names(counted)}",
                           set(counted) == set(p.only)))
    for name, addrs in p.addresses:
        i = have.get(name)
        want = [ip_interface(a) for a in addrs]
        got = [ip_interface(a) for a in i.addresses] if i else []
        parts.append(_Part(f"{name} {' '.join(addrs)}",
                           f"{name} {_iface_addresses(i)}" if i else f"no {name}",
                           i is not None and all(w in got for w in want)))
    for name, cidrs in p.subnets:
        i = have.get(name)
        ips = [ip_interface(a).ip for a in i.addresses] if i else []
        ok = i is not None and all(
            any(a in ip_network(c, strict=False) for a in ips) for c in cidrs)
        parts.append(_Part(f"{name} in {' '.join(cidrs)}",
                           f"{name} {_iface_addresses(i)}" if i else f"no {name}", ok))
    for name, mac in p.mac:
        i = have.get(name)
        got_mac = i.mac if i else None
        parts.append(_Part(f"{name} mac {mac.lower()}",
                           (f"{name} mac {got_mac or 'none'}") if i else f"no {name}",
                           got_mac is not None and got_mac == mac.lower()))
    for name, mtu in p.mtu:
        i = have.get(name)
        got_mtu = i.mtu if i else None
        parts.append(_Part(f"{name} mtu {mtu}",
                           (f"{name} mtu {got_mtu if got_mtu is not None else 'unknown'}")
                           if i else f"no {name}", got_mtu == mtu))
    if not have:
        said = _last_line(output) or "no output"
        return Verdict(False, "; ".join(x.expected for x in parts) or "interfaces listed",
                       f"no interfaces read: {said}")
    return _combine(parts, "interfaces listed", f"interfaces: {_names(names)}")


# ---- routes ----------------------------------------------------------------------------------

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


def _routes(p: RoutesProbe, output: str) -> Verdict:
    table = parse_routes(output)
    defaults = [rt for rt in table.routes if rt.dest == "default" and not rt.kind]
    shown_default = ", ".join(str(rt) for rt in defaults) or "no default route"
    parts: list[_Part] = []
    if p.default_via is not None:
        if p.default_via == "none":
            parts.append(_Part("no default route", shown_default, not defaults))
        else:
            want = str(ip_address(p.default_via))
            parts.append(_Part(f"default via {want}", shown_default,
                               any(rt.via == want for rt in defaults)))
    for entry in p.contains:
        dest, via, dev = _route_entry(entry)
        same: list[Route] = [rt for rt in table.routes if rt.dest == dest]
        match = [rt for rt in same
                 if (via is None or rt.via == via) and (dev is None or rt.dev == dev)]
        seen = match[:1] or same
        parts.append(_Part(f"route {entry}", ", ".join(str(rt) for rt in seen)
                           or f"no route for {dest}", bool(match)))
    return _combine(parts, "a routing table", _plural(len(table.routes), "route"))


# ---- file and exec ---------------------------------------------------------------------------

def _text_parts(text: str, contains: Sequence[str], matches: str | None,
                absent: Sequence[str], what: str) -> list[_Part]:
    parts = [_Part(f"{what} contains {_quote(t)}",
                   f"{what} {'contains' if t in text else 'lacks'} {_quote(t)}", t in text)
             for t in contains]
    if matches is not None:
        m = re.search(matches, text, re.MULTILINE)
        parts.append(_Part(f"{what} matches /{matches}/",
                           f"{what} matches: {_quote(m.group(0))}" if m
                           else f"no match for /{matches}/", m is not None))
    parts += [_Part(f"{what} without {_quote(t)}",
                    f"{what} has {_quote(t)}" if t in text else f"{what} without {_quote(t)}",
                    t not in text) for t in absent]
    return parts


def _file(p: FileProbe, exit_code: int, output: str) -> Verdict:
    parts = _text_parts(output, p.contains, p.matches, p.absent_text, "file")
    if exit_code != 0:
        expected = "; ".join(x.expected for x in parts) or f"{p.path} readable"
        return Verdict(False, expected,
                       f"cannot read {p.path}: {_last_line(output) or f'exit {exit_code}'}")
    lines = len(output.splitlines())
    return _combine(parts, f"{p.path} readable", f"{p.path}: {_plural(lines, 'line')}")


def _exec(p: ExecProbe, exit_code: int, output: str) -> Verdict:
    parts = [_Part(f"exit {p.exit_code}",
                   f"exit {exit_code}" + (f" ({_last_line(output)})"
                                          if exit_code != p.exit_code and _last_line(output)
                                          else ""),
                   exit_code == p.exit_code)]
    parts += _text_parts(output, (p.stdout_contains,) if p.stdout_contains is not None else (),
                         p.stdout_matches, (), "output")
    return _combine(parts, f"exit {p.exit_code}", f"exit {exit_code}")
