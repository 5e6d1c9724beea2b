"""`verify.checks` and `verify.parse` on the real output of the probes' commands.

The outputs under tests/captured/ were captured from busybox 1.35 in containers and from
the Debian tools (iputils, bind9 nslookup, GNU traceroute, iproute2, GNU wget) in network
namespaces; see tests/captured/README.md. Each test pins the exact verdict: whether it
passed and the words a user reads in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from dnetlab.model import (
    DnsProbe,
    ExecProbe,
    FileProbe,
    HttpProbe,
    InterfacesProbe,
    PingProbe,
    Probe,
    RoutesProbe,
    Target,
    TcpProbe,
    TracerouteProbe,
)
from dnetlab.verify import parse
from dnetlab.verify.checks import check
from dnetlab.verify.commands import SECTION
from dnetlab.verify.outcome import Resolved, Verdict

CAPTURED = Path(__file__).resolve().parents[2] / "captured"
FIXTURES = sorted(p.relative_to(CAPTURED).as_posix() for p in CAPTURED.glob("*/*.txt"))


def captured(name: str) -> tuple[int, str]:
    """A capture: "# exit N", "# $ COMMAND", then the output (stdout and stderr merged)."""
    first, command, *rest = (CAPTURED / name).read_text().split("\n")
    assert first.startswith("# exit ") and command.startswith("# $ "), name
    return int(first.split()[2]), "\n".join(rest).rstrip("\n")


def judge(probe: Probe, fixture: str, address: str | None = None,
          addresses_of: Mapping[str, frozenset[str]] | None = None) -> Verdict:
    code, output = captured(fixture)
    return check(Resolved(probe, "c1", "local", address, addresses_of or {}), code, output)


def judge_text(probe: Probe, output: str, exit_code: int = 0,
               address: str | None = None) -> Verdict:
    return check(Resolved(probe, "c1", "local", address), exit_code, output)


BASE: dict[str, Any] = {"name": "p", "within": 0.0, "index": 0, "name_given": False}


def target(text: str) -> Target:
    return Target(text, "address" if text[0].isdigit() else "hostname")


def ping(to: str = "c2", **kw: Any) -> PingProbe:
    return PingProbe(**BASE, source="c1", target=target(to), **kw)


def dns(query: str, **kw: Any) -> DnsProbe:
    return DnsProbe(**BASE, source="c1", query=query, **kw)


def tcp(to: str, port: int, **kw: Any) -> TcpProbe:
    return TcpProbe(**BASE, source="c1", target=target(to), port=port, **kw)


def http(**kw: Any) -> HttpProbe:
    return HttpProbe(**BASE, source="c1", url="http://c2/", **kw)


def trace(to: str, **kw: Any) -> TracerouteProbe:
    return TracerouteProbe(**BASE, source="c1", target=target(to), **kw)


def ifaces(**kw: Any) -> InterfacesProbe:
    return InterfacesProbe(**BASE, on="c1", **kw)


def routes(**kw: Any) -> RoutesProbe:
    return RoutesProbe(**BASE, on="c1", **kw)


def file(path: str = "/etc/hosts", **kw: Any) -> FileProbe:
    return FileProbe(**BASE, on="c1", path=path, **kw)


def exec_(*command: str, **kw: Any) -> ExecProbe:
    return ExecProbe(**BASE, on="c1", command=command, **kw)


# ---- the captures themselves -----------------------------------------------------------------

@pytest.mark.parametrize("fixture", FIXTURES)
def test_every_capture_is_readable_and_parses(fixture: str) -> None:
    code, output = captured(fixture)
    assert code >= 0
    for parser in (parse.parse_ping, parse.parse_nslookup, parse.parse_wget,
                   parse.parse_traceroute, parse.parse_interfaces, parse.parse_routes):
        parser(output)  # never raises on any tool's output


# ---- ping ------------------------------------------------------------------------------------

REACHABLE = "reachable (loss <= 0%)"
UNREACHABLE = "unreachable (no replies)"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (ping(), "busybox/ping-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "busybox/ping-2hops-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "busybox/ping-by-name-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "busybox/ping-unreachable.txt",
     Verdict(False, REACHABLE, "0/3 replies (100% loss)")),
    (ping(), "busybox/ping-remote-unreachable.txt",
     Verdict(False, REACHABLE, "0/3 replies (100% loss)")),
    (ping(), "busybox/ping-partial-loss.txt",
     Verdict(False, REACHABLE, "2/4 replies, 50% loss")),
    (ping(max_loss=50.0), "busybox/ping-partial-loss.txt",
     Verdict(True, "reachable (loss <= 50%)", "2/4 replies, 50% loss")),
    (ping(max_loss=49.5), "busybox/ping-partial-loss.txt",
     Verdict(False, "reachable (loss <= 49.5%)", "2/4 replies, 50% loss")),
    (ping(), "busybox/ping-bad-address.txt",
     Verdict(False, REACHABLE, "no replies: bad address 'no-such-host'")),
    (ping(expect="unreachable"), "busybox/ping-unreachable.txt",
     Verdict(True, UNREACHABLE, "0/3 replies (100% loss)")),
    (ping(expect="unreachable"), "busybox/ping-partial-loss.txt",
     Verdict(False, UNREACHABLE, "2/4 replies, 50% loss")),
    (ping(expect="unreachable"), "busybox/ping-ok.txt",
     Verdict(False, UNREACHABLE, "3/3 replies, 0% loss")),
    (ping(expect="unreachable"), "busybox/ping-bad-address.txt",
     Verdict(True, UNREACHABLE, "no replies: bad address 'no-such-host'")),
    (ping(), "gnu/ping-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "gnu/ping6-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "gnu/ping-2hops-ok.txt", Verdict(True, REACHABLE, "3/3 replies, 0% loss")),
    (ping(), "gnu/ping-silent-100loss.txt",
     Verdict(False, REACHABLE, "0/5 replies (100% loss)")),
    (ping(), "gnu/ping-host-unreachable-errors.txt",
     Verdict(False, REACHABLE, "0/4 replies (100% loss), 4 ICMP errors")),
    (ping(expect="unreachable"), "gnu/ping-remote-unreachable-errors.txt",
     Verdict(True, UNREACHABLE, "0/4 replies (100% loss), 4 ICMP errors")),
    (ping(), "gnu/ping-no-route.txt",
     Verdict(False, REACHABLE, "no replies: connect: Network is unreachable")),
    (ping(expect="unreachable"), "gnu/ping-bad-name.txt",
     Verdict(True, UNREACHABLE, "no replies: no-such-host: Name or service not known")),
])
def test_ping(probe: PingProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_ping_iputils_partial_loss_with_errors() -> None:
    out = ("--- 10.0.0.9 ping statistics ---\n"
           "3 packets transmitted, 2 received, +1 errors, 33.3333% packet loss, time 2003ms\n")
    assert parse.parse_ping(out) == parse.Ping(3, 2, 33.3333, 1)
    assert judge_text(ping(max_loss=34.0), out) == Verdict(
        True, "reachable (loss <= 34%)", "2/3 replies, 33.3333% loss, 1 ICMP error")
    assert judge_text(ping(), out).passed is False


def test_ping_without_any_output() -> None:
    assert judge_text(ping(), "", 1) == Verdict(False, REACHABLE, "no replies: no output")


# ---- dns -------------------------------------------------------------------------------------

NOADDR = "no address (NXDOMAIN or no answer)"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (dns("dnl-test-c2"), "busybox/nslookup-ok.txt",
     Verdict(True, "dnl-test-c2 resolves", "dnl-test-c2 -> 10.235.1.11")),
    (dns("dnl-test-c2", addresses=("10.235.1.11",)), "busybox/nslookup-ok.txt",
     Verdict(True, "dnl-test-c2 -> 10.235.1.11", "dnl-test-c2 -> 10.235.1.11")),
    (dns("dnl-test-c2", addresses=("10.235.1.99",)), "busybox/nslookup-ok.txt",
     Verdict(False, "dnl-test-c2 -> 10.235.1.99", "dnl-test-c2 -> 10.235.1.11")),
    (dns("dnl-test-c2", addresses=("10.235.1.11", "10.235.1.12")), "busybox/nslookup-ok.txt",
     Verdict(False, "dnl-test-c2 -> 10.235.1.11, 10.235.1.12", "dnl-test-c2 -> 10.235.1.11")),
    (dns("dnl-test-c2", expect="nxdomain"), "busybox/nslookup-ok.txt",
     Verdict(False, f"dnl-test-c2: {NOADDR}", "dnl-test-c2 -> 10.235.1.11")),
    # a name on a container outside the container's DNS view, with no upstream to forward to
    (dns("dnl-test-c2"), "busybox/nslookup-container-name-no-upstream.txt",
     Verdict(True, "dnl-test-c2 resolves", "dnl-test-c2 -> 10.235.1.11")),
    # two containers sharing a network alias: both answers, in any order
    (dns("web", addresses=("10.235.1.26", "10.235.1.25")), "busybox/nslookup-alias-two.txt",
     Verdict(True, "web -> 10.235.1.26, 10.235.1.25", "web -> 10.235.1.25, 10.235.1.26")),
    (dns("web", addresses=("10.235.1.25",)), "busybox/nslookup-alias-two.txt",
     Verdict(False, "web -> 10.235.1.25", "web -> 10.235.1.25, 10.235.1.26")),
    # busybox prints the AAAA block first here; addresses compare as IPs, not as text
    (dns("dual", addresses=("10.235.241.20", "FD00:235:0::20")), "busybox/nslookup-dual.txt",
     Verdict(True, "dual -> 10.235.241.20, FD00:235:0::20",
             "dual -> fd00:235::20, 10.235.241.20")),
    (dns("dual", addresses=("10.235.241.20",)), "busybox/nslookup-dual.txt",
     Verdict(False, "dual -> 10.235.241.20", "dual -> fd00:235::20, 10.235.241.20")),
    (dns("v6only"), "busybox/nslookup-v6only.txt",
     Verdict(True, "v6only resolves", "v6only -> fd00:235::30")),
    (dns("multi", addresses=("10.235.241.20", "10.235.241.21")), "busybox/nslookup-multi.txt",
     Verdict(True, "multi -> 10.235.241.20, 10.235.241.21",
             "multi -> 10.235.241.20, 10.235.241.21")),
    (dns("nosuch", expect="nxdomain"), "busybox/nslookup-nxdomain.txt",
     Verdict(True, f"nosuch: {NOADDR}", "nosuch: NXDOMAIN")),
    (dns("nosuch"), "busybox/nslookup-nxdomain.txt",
     Verdict(False, "nosuch resolves", "nosuch: NXDOMAIN")),
    (dns("broken", expect="nxdomain"), "busybox/nslookup-servfail.txt",
     Verdict(True, f"broken: {NOADDR}", "broken: SERVFAIL")),
    # exit 0, yet no address: busybox's "no answer" is two empty answer blocks
    (dns("empty"), "busybox/nslookup-noanswer.txt",
     Verdict(False, "empty resolves", "empty: no answer")),
    (dns("empty", expect="nxdomain"), "busybox/nslookup-noanswer.txt",
     Verdict(True, f"empty: {NOADDR}", "empty: no answer")),
    (dns("slow", expect="nxdomain"), "busybox/nslookup-timeout.txt",
     Verdict(True, f"slow: {NOADDR}", "slow: no servers could be reached")),
    (dns("no-such-host"), "busybox/nslookup-no-upstream.txt",
     Verdict(False, "no-such-host resolves", "no-such-host: no servers could be reached")),
    (dns("c2", addresses=("10.235.241.20",)), "gnu/nslookup-ok.txt",
     Verdict(True, "c2 -> 10.235.241.20", "c2 -> 10.235.241.20")),
    (dns("c2", addresses=("10.235.241.21",)), "gnu/nslookup-ok.txt",
     Verdict(False, "c2 -> 10.235.241.21", "c2 -> 10.235.241.20")),
    (dns("multi"), "gnu/nslookup-multi.txt",
     Verdict(True, "multi resolves", "multi -> 10.235.241.20, 10.235.241.21")),
    (dns("dual", addresses=("fd00:235::20", "10.235.241.20")), "gnu/nslookup-dual.txt",
     Verdict(True, "dual -> fd00:235::20, 10.235.241.20",
             "dual -> 10.235.241.20, fd00:235::20")),
    (dns("v6only"), "gnu/nslookup-v6only.txt",
     Verdict(True, "v6only resolves", "v6only -> fd00:235::30")),
    (dns("nosuch", expect="nxdomain"), "gnu/nslookup-nxdomain.txt",
     Verdict(True, f"nosuch: {NOADDR}", "nosuch: NXDOMAIN")),
    (dns("broken"), "gnu/nslookup-servfail.txt",
     Verdict(False, "broken resolves", "broken: SERVFAIL")),
    (dns("empty", expect="nxdomain"), "gnu/nslookup-noanswer.txt",
     Verdict(True, f"empty: {NOADDR}", "empty: no answer")),
    (dns("slow"), "gnu/nslookup-timeout.txt",
     Verdict(False, "slow resolves", "slow: no servers could be reached")),
    (dns("c2", expect="nxdomain"), "gnu/nslookup-refused.txt",
     Verdict(True, f"c2: {NOADDR}", "c2: no servers could be reached")),
])
def test_dns(probe: DnsProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_nslookup_header_addresses_are_not_answers() -> None:
    # old busybox (before 1.28): numbered addresses, the header with "Address 1:" too
    old = ("Server:    127.0.0.11\nAddress 1: 127.0.0.11\n\n"
           "Name:      c2\nAddress 1: 10.201.0.11 c2.lan\n")
    assert parse.parse_nslookup(old) == parse.Lookup(("10.201.0.11",))
    # bind with a CNAME: the canonical name's addresses are the answer
    cname = ("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#53\n\nNon-authoritative answer:\n"
             "www\tcanonical name = web.lan.\nName:\tweb.lan\nAddress: 10.0.0.7\n")
    assert parse.parse_nslookup(cname) == parse.Lookup(("10.0.0.7",))
    assert parse.parse_nslookup("Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n") == \
        parse.Lookup((), "Address:\t127.0.0.11:53")


# ---- tcp -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (tcp("10.235.1.11", 80), "busybox/nc-open.txt",
     Verdict(True, "10.235.1.11:80 open", "10.235.1.11:80 open")),
    (tcp("dnl-test-c2", 80), "busybox/nc-open-by-name.txt",
     Verdict(True, "dnl-test-c2:80 open", "dnl-test-c2:80 open")),
    (tcp("10.235.1.11", 80, expect="closed"), "busybox/nc-open.txt",
     Verdict(False, "10.235.1.11:80 closed (refused or timed out)", "10.235.1.11:80 open")),
    (tcp("10.235.1.11", 81), "busybox/nc-refused.txt",
     Verdict(False, "10.235.1.11:81 open", "10.235.1.11:81 refused")),
    (tcp("10.235.1.11", 81, expect="closed"), "busybox/nc-refused.txt",
     Verdict(True, "10.235.1.11:81 closed (refused or timed out)", "10.235.1.11:81 refused")),
    (tcp("10.235.1.99", 80, expect="closed"), "busybox/nc-timeout.txt",
     Verdict(True, "10.235.1.99:80 closed (refused or timed out)", "10.235.1.99:80 timed out")),
    (tcp("10.235.2.99", 80), "busybox/nc-remote-unreachable.txt",
     Verdict(False, "10.235.2.99:80 open", "10.235.2.99:80 timed out")),
    # with -w 2 the name lookup is under the same alarm: an unanswered lookup "times out"
    (tcp("no-such-host", 80), "busybox/nc-bad-address.txt",
     Verdict(False, "no-such-host:80 open", "no-such-host:80 timed out")),
])
def test_tcp(probe: TcpProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture, address=probe.target.text) == verdict


def test_tcp_other_failures_say_what_nc_said() -> None:
    assert judge_text(tcp("x", 80), "nc: bad address 'x'", 1, "x") == Verdict(
        False, "x:80 open", "x:80 not connected: bad address 'x'")
    assert judge_text(tcp("x", 80, expect="closed"), "", 1, "x") == Verdict(
        True, "x:80 closed (refused or timed out)", "x:80 not connected (exit 1)")


# ---- http ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (http(), "busybox/wget-200.txt", Verdict(True, "status 200", "status 200")),
    (http(contains="hello"), "busybox/wget-200.txt",
     Verdict(True, "status 200, body contains 'hello'", "status 200, body contains 'hello'")),
    (http(contains="goodbye"), "busybox/wget-200.txt",
     Verdict(False, "status 200, body contains 'goodbye'", "status 200, body without 'goodbye'")),
    (http(status=404), "busybox/wget-200.txt", Verdict(False, "status 404", "status 200")),
    (http(), "busybox/wget-404.txt", Verdict(False, "status 200", "status 404")),
    (http(status=404), "busybox/wget-404.txt", Verdict(True, "status 404", "status 404")),
    # busybox httpd answers 302 for a directory without its slash; wget follows it
    (http(contains="sub"), "busybox/wget-redirect-200.txt",
     Verdict(True, "status 200, body contains 'sub'", "status 200, body contains 'sub'")),
    (http(status=302), "busybox/wget-redirect-200.txt",
     Verdict(False, "status 302", "status 200")),
    (http(), "busybox/wget-refused.txt", Verdict(
        False, "status 200",
        "no response: can't connect to remote host (10.235.1.11): Connection refused")),
    (http(), "busybox/wget-2hops-refused.txt", Verdict(
        False, "status 200",
        "no response: can't connect to remote host (10.235.2.20): Connection refused")),
    (http(), "busybox/wget-host-unreachable.txt", Verdict(
        False, "status 200",
        "no response: can't connect to remote host (10.235.1.99): No route to host")),
    (http(), "busybox/wget-bad-address.txt",
     Verdict(False, "status 200", "no response: bad address 'no-such-host'")),
    # Debian's busybox wget has no -T: given one, it crashes
    (http(), "busybox/wget-T-segfault.txt",
     Verdict(False, "status 200", "no response: Segmentation fault")),
    (http(contains="hello from dnetlab"), "gnu/wget-200.txt",
     Verdict(True, "status 200, body contains 'hello from dnetlab'",
             "status 200, body contains 'hello from dnetlab'")),
    (http(), "gnu/wget-404.txt", Verdict(False, "status 200", "status 404")),
    (http(contains="sub page"), "gnu/wget-redirect-200.txt",
     Verdict(True, "status 200, body contains 'sub page'",
             "status 200, body contains 'sub page'")),
    (http(), "gnu/wget-refused.txt",
     Verdict(False, "status 200", "no response: Connection refused")),
    (http(), "gnu/wget-bad-name.txt", Verdict(
        False, "status 200", "no response: unable to resolve host address ‘no-such-host’")),
])
def test_http(probe: HttpProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_http_timeouts() -> None:
    killed = f"Connecting to 10.0.0.9 (10.0.0.9:80)\n{SECTION}"  # by `timeout 5 wget ...`
    assert judge_text(http(), killed, 143) == Verdict(
        False, "status 200", "no response: timed out (exit 143)")
    own = f"Connecting to 10.0.0.9 (10.0.0.9:80)\nwget: download timed out\n{SECTION}"
    assert judge_text(http(), own, 1) == Verdict(
        False, "status 200", "no response: download timed out")


def test_http_body_after_the_marker_only() -> None:
    out = f"  HTTP/1.1 200 OK\n  X-Note: HTTP/1.1 500\n{SECTION}\nHTTP/1.1 404 x\n"
    res = parse.parse_wget(out)
    assert (res.status, res.body, res.error) == (200, "HTTP/1.1 404 x\n", None)


# ---- traceroute ------------------------------------------------------------------------------

ROUTER = frozenset({"10.235.1.254", "10.235.2.254"})
OF = {"r": ROUTER, "c3": frozenset({"10.235.2.20"}), "r2": frozenset({"10.235.1.253"})}
TWO = "2 hops: 10.235.1.254 10.235.2.20"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (trace("10.235.1.11", hops=1), "busybox/traceroute-1hop.txt",
     Verdict(True, "1 hop", "1 hop: 10.235.1.11")),
    (trace("10.235.2.20", hops=1), "busybox/traceroute-2hops.txt",
     Verdict(False, "1 hop", TWO)),
    (trace("10.235.2.20", hops=2), "busybox/traceroute-2hops.txt", Verdict(True, "2 hops", TWO)),
    (trace("10.235.2.20"), "busybox/traceroute-2hops.txt",
     Verdict(True, "reaches 10.235.2.20", TWO)),
    (trace("10.235.2.20", path=("r", "c3")), "busybox/traceroute-2hops.txt",
     Verdict(True, "path r c3", TWO)),
    (trace("10.235.2.20", path=("10.235.1.254", "10.235.2.20")), "busybox/traceroute-2hops.txt",
     Verdict(True, "path 10.235.1.254 10.235.2.20", TWO)),
    (trace("10.235.2.20", path=("c3",)), "busybox/traceroute-2hops.txt",
     Verdict(False, "path c3", TWO)),
    (trace("10.235.2.20", path=("r2", "c3")), "busybox/traceroute-2hops.txt",
     Verdict(False, "path r2 c3", TWO)),
    (trace("10.235.2.20", path=("c3", "r")), "busybox/traceroute-2hops.txt",
     Verdict(False, "path c3 r", TWO)),
    (trace("10.235.2.20", via="r"), "busybox/traceroute-2hops.txt",
     Verdict(True, "via r", TWO)),
    (trace("10.235.2.20", via="10.235.1.254"), "busybox/traceroute-2hops.txt",
     Verdict(True, "via 10.235.1.254", TWO)),
    (trace("10.235.2.20", via="r2"), "busybox/traceroute-2hops.txt",
     Verdict(False, "via r2", TWO)),
    (trace("10.235.2.20", hops=2, path=("r", "c3"), via="r"), "busybox/traceroute-2hops.txt",
     Verdict(True, "2 hops, path r c3, via r", TWO)),
    (trace("10.235.2.20", hops=2, via="r2"), "busybox/traceroute-2hops.txt",
     Verdict(False, "2 hops, via r2", TWO)),
    # an unused address: stars, then the sender's own "host unreachable"
    (trace("10.235.1.99", hops=1), "busybox/traceroute-unreachable.txt",
     Verdict(False, "1 hop", "10.235.1.99 not reached in 4 hops: * * * 10.235.1.10 !H")),
    # the router answers "host unreachable" for the far network: it is no arrival
    (trace("10.235.2.99", via="r"), "busybox/traceroute-remote-unreachable.txt", Verdict(
        False, "via r",
        "10.235.2.99 not reached in 5 hops: 10.235.1.254 * * * 10.235.1.254 !H")),
    (trace("dnl-test-c2", hops=1), "busybox/traceroute-by-name.txt",
     Verdict(True, "1 hop", "1 hop: 10.235.1.11")),
    (trace("no-such-host", hops=1), "busybox/traceroute-bad-address.txt",
     Verdict(False, "1 hop", "no trace: bad address 'no-such-host'")),
    (trace("10.235.241.20", hops=2, path=("10.235.240.1", "10.235.241.20")),
     "gnu/traceroute-2hops.txt",
     Verdict(True, "2 hops, path 10.235.240.1 10.235.241.20",
             "2 hops: 10.235.240.1 10.235.241.20")),
    (trace("10.235.240.1", hops=1), "gnu/traceroute-1hop.txt",
     Verdict(True, "1 hop", "1 hop: 10.235.240.1")),
    (trace("127.0.0.1", hops=1), "gnu/traceroute-loopback.txt",
     Verdict(True, "1 hop", "1 hop: 127.0.0.1")),
    (trace("10.235.250.9"), "gnu/traceroute-silent.txt",
     Verdict(False, "reaches 10.235.250.9",
             "10.235.250.9 not reached in 10 hops: * * * * * * * * * *")),
    (trace("10.235.241.99", hops=2), "gnu/traceroute-host-unreachable.txt",
     Verdict(False, "2 hops",
             "10.235.241.99 not reached in 10 hops: 10.235.240.1 * * * * * * * * *")),
    (trace("no-such-host"), "gnu/traceroute-bad-name.txt",
     Verdict(False, "reaches no-such-host", "no trace: no-such-host: Name or service not known")),
])
def test_traceroute(probe: TracerouteProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture, address=probe.target.text, addresses_of=OF) == verdict


def test_traceroute_without_header_uses_the_resolved_address() -> None:
    out = " 1  10.70.0.1  0.1 ms\n 2  10.71.0.1  0.2 ms\n 3  10.71.0.20  0.3 ms\n"
    assert judge_text(trace("10.71.0.20", hops=1), out, address="10.71.0.20") == Verdict(
        False, "1 hop", "3 hops: 10.70.0.1 10.71.0.1 10.71.0.20")


# ---- interfaces ------------------------------------------------------------------------------

# lo; eth0 10.235.3.7/24 mtu 1400; eth1 10.235.1.7/24
TWO_NETS = "busybox/ip-link-addr-two-nets.txt"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (ifaces(), TWO_NETS, Verdict(True, "interfaces listed", "interfaces: lo, eth0, eth1")),
    (ifaces(present=("eth0", "eth1")), TWO_NETS,
     Verdict(True, "present: eth0, eth1", "present: eth0, eth1")),
    (ifaces(present=("eth0", "eth2")), TWO_NETS,
     Verdict(False, "present: eth0, eth2", "missing: eth2 (have lo, eth0, eth1)")),
    (ifaces(absent=("eth2",)), TWO_NETS, Verdict(True, "absent: eth2", "absent: eth2")),
    (ifaces(absent=("eth1", "eth2")), TWO_NETS,
     Verdict(False, "absent: eth1, eth2", "present: eth1")),
    (ifaces(only=("eth0", "eth1")), TWO_NETS,
     Verdict(True, "only: eth0, eth1", "interfaces: eth0, eth1")),
    (ifaces(only=("lo", "eth1", "eth0")), TWO_NETS,
     Verdict(True, "only: lo, eth1, eth0", "interfaces: lo, eth0, eth1")),
    (ifaces(only=("eth0",)), TWO_NETS, Verdict(False, "only: eth0", "interfaces: eth0, eth1")),
    (ifaces(only=("eth0", "eth1", "eth2")), TWO_NETS,
     Verdict(False, "only: eth0, eth1, eth2", "interfaces: eth0, eth1")),
    (ifaces(addresses=(("eth0", ("10.235.3.7/24",)),)), TWO_NETS,
     Verdict(True, "eth0 10.235.3.7/24", "eth0 10.235.3.7/24")),
    (ifaces(addresses=(("eth0", ("10.235.3.7/16",)),)), TWO_NETS,
     Verdict(False, "eth0 10.235.3.7/16", "eth0 10.235.3.7/24")),
    (ifaces(addresses=(("eth1", ("10.235.3.7/24",)),)), TWO_NETS,
     Verdict(False, "eth1 10.235.3.7/24", "eth1 10.235.1.7/24")),
    (ifaces(addresses=(("eth2", ("10.235.3.7/24",)),)), TWO_NETS,
     Verdict(False, "eth2 10.235.3.7/24", "no eth2")),
    (ifaces(subnets=(("eth1", ("10.235.1.0/24",)),)), TWO_NETS,
     Verdict(True, "eth1 in 10.235.1.0/24", "eth1 10.235.1.7/24")),
    (ifaces(subnets=(("eth1", ("10.235.0.0/16",)),)), TWO_NETS,
     Verdict(True, "eth1 in 10.235.0.0/16", "eth1 10.235.1.7/24")),
    (ifaces(subnets=(("eth1", ("10.235.3.0/24",)),)), TWO_NETS,
     Verdict(False, "eth1 in 10.235.3.0/24", "eth1 10.235.1.7/24")),
    (ifaces(mac=(("eth0", "02:42:0A:EB:03:07"),)), TWO_NETS,
     Verdict(True, "eth0 mac 02:42:0a:eb:03:07", "eth0 mac 02:42:0a:eb:03:07")),
    (ifaces(mac=(("eth1", "02:42:0a:eb:03:07"),)), TWO_NETS,
     Verdict(False, "eth1 mac 02:42:0a:eb:03:07", "eth1 mac 02:42:0a:eb:01:07")),
    (ifaces(mtu=(("eth0", 1400),)), TWO_NETS, Verdict(True, "eth0 mtu 1400", "eth0 mtu 1400")),
    (ifaces(mtu=(("eth1", 1400),)), TWO_NETS, Verdict(False, "eth1 mtu 1400", "eth1 mtu 1500")),
    # several fields: a failure shows only what failed
    (ifaces(present=("eth2",), mtu=(("eth0", 1400), ("eth1", 1400)),
            mac=(("eth0", "02:42:0a:eb:03:07"),)), TWO_NETS,
     Verdict(False, "present: eth2; eth1 mtu 1400",
             "missing: eth2 (have lo, eth0, eth1); eth1 mtu 1500")),
    (ifaces(present=("eth0",), mtu=(("eth0", 1400),)), TWO_NETS,
     Verdict(True, "present: eth0; eth0 mtu 1400", "present: eth0; eth0 mtu 1400")),
    (ifaces(only=("eth0", "eth1")), "busybox/ip-link-addr-router.txt",
     Verdict(True, "only: eth0, eth1", "interfaces: eth0, eth1")),
    (ifaces(only=()), "busybox/ip-link-addr-none.txt", Verdict(True, "only: none",
                                                                 "interfaces: none")),
    (ifaces(absent=("eth0",)), "busybox/ip-link-addr-none.txt",
     Verdict(True, "absent: eth0", "absent: eth0")),
    (ifaces(addresses=(("e0", ("fd00:235:9::2/64", "10.235.9.2/24")),), mtu=(("e0", 9000),)),
     "busybox/ip-link-addr-ipv6-netns.txt",
     Verdict(True, "e0 fd00:235:9::2/64 10.235.9.2/24; e0 mtu 9000",
             "e0 10.235.9.2/24 fd00:235:9::2/64 fe80::d0ce:20ff:fe05:622a/64; e0 mtu 9000")),
    (ifaces(subnets=(("e0", ("fd00:235:9::/64",)),)), "busybox/ip-link-addr-ipv6-netns.txt",
     Verdict(True, "e0 in fd00:235:9::/64",
             "e0 10.235.9.2/24 fd00:235:9::2/64 fe80::d0ce:20ff:fe05:622a/64")),
    (ifaces(only=("a0", "d1", "d1p"), addresses=(("a0", ("10.235.252.5/24",)),),
            mac=(("a0", "62:16:AE:6A:A7:BD"),)), "gnu/ip-link-addr.txt",
     Verdict(True, "only: a0, d1, d1p; a0 10.235.252.5/24; a0 mac 62:16:ae:6a:a7:bd",
             "interfaces: a0, d1p, d1; a0 10.235.240.10/24 10.235.252.5/24 fd00:235::10/64 "
             "fe80::6016:aeff:fe6a:a7bd/64; a0 mac 62:16:ae:6a:a7:bd")),
    (ifaces(addresses=(("d1", ("10.235.253.1/24",)),)), "gnu/ip-link-addr.txt",
     Verdict(False, "d1 10.235.253.1/24", "d1 no address")),
])
def test_interfaces(probe: InterfacesProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_interfaces_names_and_flags() -> None:
    _, out = captured("gnu/ip-link-addr.txt")
    got = parse.parse_interfaces(out)
    assert list(got) == ["lo", "a0", "d1p", "d1"]  # "a0@if2", "d1p@d1": the suffix goes
    assert (got["a0"].up, got["a0"].state, got["a0"].mtu) == (True, "UP", 1400)
    assert (got["d1"].up, got["d1"].state) == (False, "DOWN")
    _, out = captured(TWO_NETS)
    eth0 = parse.parse_interfaces(out)["eth0"]  # busybox prints no "state"
    assert (eth0.name, eth0.up, eth0.state, eth0.mac) == ("eth0", True, None, "02:42:0a:eb:03:07")


def test_interfaces_tolerate_noise_and_peer_addresses() -> None:
    out = ("Dump was interrupted and may be inconsistent.\n"
           "7: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc noqueue state UNKNOWN\\ "
           "   link/none \n"
           f"{SECTION}\n"
           "7: wg0    inet 10.9.0.1 peer 10.9.0.2/32 scope global wg0\\       valid_lft forever\n")
    assert parse.parse_interfaces(out) == {"wg0": parse.Interface(
        "wg0", ("POINTOPOINT", "NOARP", "UP", "LOWER_UP"), 1420, "UNKNOWN", None,
        ("10.9.0.1/32",))}


def test_interfaces_when_ip_is_missing() -> None:
    assert judge_text(ifaces(present=("eth0",)), "sh: ip: not found", 127) == Verdict(
        False, "present: eth0", "no interfaces read: sh: ip: not found")


# ---- routes ----------------------------------------------------------------------------------

ROUTES = "busybox/ip-route.txt"  # default via .1.1; 10.235.1.0/24 dev eth0; .2.0/24 via .1.254
DEFAULT = "default via 10.235.1.1 dev eth0"


@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (routes(), ROUTES, Verdict(True, "a routing table", "3 routes")),
    (routes(default_via="10.235.1.1"), ROUTES, Verdict(True, "default via 10.235.1.1", DEFAULT)),
    (routes(default_via="10.235.1.254"), ROUTES,
     Verdict(False, "default via 10.235.1.254", DEFAULT)),
    (routes(default_via="none"), ROUTES, Verdict(False, "no default route", DEFAULT)),
    (routes(default_via="none"), "busybox/ip-route-none.txt",
     Verdict(True, "no default route", "no default route")),
    (routes(default_via="10.235.1.1"), "busybox/ip-route-none.txt",
     Verdict(False, "default via 10.235.1.1", "no default route")),
    (routes(default_via="none"), "gnu/ip-route-no-default.txt",
     Verdict(True, "no default route", "no default route")),
    (routes(contains=("10.235.2.0/24 via 10.235.1.254",)), ROUTES,
     Verdict(True, "route 10.235.2.0/24 via 10.235.1.254",
             "10.235.2.0/24 via 10.235.1.254 dev eth0")),
    (routes(contains=("10.235.2.0/24 via 10.235.1.253",)), ROUTES,
     Verdict(False, "route 10.235.2.0/24 via 10.235.1.253",
             "10.235.2.0/24 via 10.235.1.254 dev eth0")),
    (routes(contains=("10.235.1.0/24 dev eth0", "10.235.2.0/24")), ROUTES,
     Verdict(True, "route 10.235.1.0/24 dev eth0; route 10.235.2.0/24",
             "10.235.1.0/24 dev eth0; 10.235.2.0/24 via 10.235.1.254 dev eth0")),
    (routes(contains=("10.235.1.0/24 dev eth1",)), ROUTES,
     Verdict(False, "route 10.235.1.0/24 dev eth1", "10.235.1.0/24 dev eth0")),
    (routes(contains=("10.235.9.0/24",)), ROUTES,
     Verdict(False, "route 10.235.9.0/24", "no route for 10.235.9.0/24")),
    (routes(contains=("default via 10.235.1.1", "default dev eth0")), ROUTES,
     Verdict(True, "route default via 10.235.1.1; route default dev eth0",
             f"{DEFAULT}; {DEFAULT}")),
    (routes(default_via="10.235.1.1", contains=("10.235.3.0/24 dev eth0",)),
     "busybox/ip-route-two-nets.txt",
     Verdict(True, "default via 10.235.1.1; route 10.235.3.0/24 dev eth0",
             "default via 10.235.1.1 dev eth1; 10.235.3.0/24 dev eth0")),
    (routes(default_via="10.235.9.1", contains=("10.235.9.0/24 dev e0",)),
     "busybox/ip-route-ipv6-netns.txt",
     Verdict(True, "default via 10.235.9.1; route 10.235.9.0/24 dev e0",
             "default via 10.235.9.1 dev e0; 10.235.9.0/24 dev e0")),
    (routes(default_via="10.235.240.1", contains=("10.235.252.0/24 dev a0",)),
     "gnu/ip-route.txt",
     Verdict(True, "default via 10.235.240.1; route 10.235.252.0/24 dev a0",
             "default via 10.235.240.1 dev a0; 10.235.252.0/24 dev a0")),
    (routes(default_via="none", contains=("10.235.250.0/24",)), "gnu/ip-route-router.txt",
     Verdict(True, "no default route; route 10.235.250.0/24",
             "no default route; blackhole 10.235.250.0/24")),
])
def test_routes(probe: RoutesProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_routes_multipath_and_host_routes() -> None:
    out = ("default proto static metric 1024\n"
           "\tnexthop via 10.0.0.1 dev eth0 weight 1\n"
           "\tnexthop via 10.0.1.1 dev eth1 weight 1\n"
           "10.9.0.7 via 10.0.0.2 dev eth0\n")
    assert parse.parse_routes(out).routes == (
        parse.Route("default", "10.0.0.1", "eth0"), parse.Route("default", "10.0.1.1", "eth1"),
        parse.Route("10.9.0.7/32", "10.0.0.2", "eth0"))
    assert judge_text(routes(default_via="10.0.1.1", contains=("10.9.0.7/32 via 10.0.0.2",)),
                      out).passed


# ---- file ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (file(), "busybox/cat-hosts.txt", Verdict(True, "/etc/hosts readable", "/etc/hosts: 7 lines")),
    (file(contains=("localhost", "10.235.1.10"), matches=r"^10\.235\.1\.10\s+\w+$"),
     "busybox/cat-hosts.txt",
     Verdict(True, r"file contains 'localhost'; file contains '10.235.1.10'; "
                   r"file matches /^10\.235\.1\.10\s+\w+$/",
             "file contains 'localhost'; file contains '10.235.1.10'; "
             "file matches: '10.235.1.10\\tcfc6edddf797'")),
    (file(contains=("localhost", "10.235.1.99")), "busybox/cat-hosts.txt",
     Verdict(False, "file contains '10.235.1.99'", "file lacks '10.235.1.99'")),
    (file(matches=r"^10\.235\.2\."), "busybox/cat-hosts.txt",
     Verdict(False, r"file matches /^10\.235\.2\./", r"no match for /^10\.235\.2\./")),
    (file(absent_text=("10.235.1.99",)), "busybox/cat-hosts.txt",
     Verdict(True, "file without '10.235.1.99'", "file without '10.235.1.99'")),
    (file(absent_text=("10.235.1.99", "ip6-localhost")), "busybox/cat-hosts.txt",
     Verdict(False, "file without 'ip6-localhost'", "file has 'ip6-localhost'")),
    (file("/etc/resolv.conf", contains=("nameserver 127.0.0.11",)), "busybox/cat-resolv.txt",
     Verdict(True, "file contains 'nameserver 127.0.0.11'",
             "file contains 'nameserver 127.0.0.11'")),
    (file("/etc/nosuchfile", absent_text=("x",)), "busybox/cat-missing.txt",
     Verdict(False, "file without 'x'", "cannot read /etc/nosuchfile: cat: can't open "
                                        "'/etc/nosuchfile': No such file or directory")),
    (file("/etc/nosuchfile"), "busybox/cat-missing.txt",
     Verdict(False, "/etc/nosuchfile readable", "cannot read /etc/nosuchfile: cat: can't open "
                                                "'/etc/nosuchfile': No such file or directory")),
])
def test_file(probe: FileProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


# ---- exec ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("probe", "fixture", "verdict"), [
    (exec_("hostname"), "busybox/exec-hostname.txt", Verdict(True, "exit 0", "exit 0")),
    (exec_("hostname", stdout_contains="cfc6", stdout_matches=r"^[0-9a-f]{12}$"),
     "busybox/exec-hostname.txt",
     Verdict(True, "exit 0; output contains 'cfc6'; output matches /^[0-9a-f]{12}$/",
             "exit 0; output contains 'cfc6'; output matches: 'cfc6edddf797'")),
    (exec_("hostname", stdout_contains="c1"), "busybox/exec-hostname.txt",
     Verdict(False, "output contains 'c1'", "output lacks 'c1'")),
    (exec_("hostname", stdout_matches="^c1$"), "busybox/exec-hostname.txt",
     Verdict(False, "output matches /^c1$/", "no match for /^c1$/")),
    (exec_("hostname", exit_code=1), "busybox/exec-hostname.txt",
     Verdict(False, "exit 1", "exit 0 (cfc6edddf797)")),
    (exec_("false"), "busybox/exec-false.txt", Verdict(False, "exit 0", "exit 1")),
    (exec_("false", exit_code=1), "busybox/exec-false.txt", Verdict(True, "exit 1", "exit 1")),
    (exec_("no-such-command"), "busybox/exec-not-found.txt",
     Verdict(False, "exit 0", "exit 127 (sh: no-such-command: not found)")),
])
def test_exec(probe: ExecProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict
