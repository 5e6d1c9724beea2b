"""`dns` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.errors import ScenarioInvalid
from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.probes.base import Resolved, Verdict
from dnetlab.probes.dns import DnsProbe, Lookup, parse_nslookup
from dnetlab.probes.registry import command_for
from tests.unit.probes.kit import BASE, judge


def dns(query: str, **kw: Any) -> DnsProbe:
    return DnsProbe(**BASE, source="c1", query=query, **kw)


NX = "NXDOMAIN (a resolver answers that it does not exist)"
NOADDR = "no address (NXDOMAIN, no answer or an error)"


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
     Verdict(False, f"dnl-test-c2: {NX}", "dnl-test-c2 -> 10.235.1.11")),
    (dns("dnl-test-c2", expect="unresolved"), "busybox/nslookup-ok.txt",
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
     Verdict(True, f"nosuch: {NX}", "nosuch: NXDOMAIN")),
    (dns("nosuch", expect="unresolved"), "busybox/nslookup-nxdomain.txt",
     Verdict(True, f"nosuch: {NOADDR}", "nosuch: NXDOMAIN")),
    (dns("nosuch"), "busybox/nslookup-nxdomain.txt",
     Verdict(False, "nosuch resolves", "nosuch: NXDOMAIN")),
    # SERVFAIL: a resolver answered, but not that the name does not exist
    (dns("broken", expect="nxdomain"), "busybox/nslookup-servfail.txt",
     Verdict(False, f"broken: {NX}", "broken: SERVFAIL")),
    (dns("broken", expect="unresolved"), "busybox/nslookup-servfail.txt",
     Verdict(True, f"broken: {NOADDR}", "broken: SERVFAIL")),
    # exit 0, yet no address: busybox's "no answer" is two empty answer blocks
    # exit 0, yet no address: busybox's "no records" is two empty answer blocks
    (dns("empty"), "busybox/nslookup-noanswer.txt",
     Verdict(False, "empty resolves", "empty: answered without an address")),
    (dns("empty", expect="nxdomain"), "busybox/nslookup-noanswer.txt",
     Verdict(False, f"empty: {NX}", "empty: answered without an address")),
    (dns("empty", expect="unresolved"), "busybox/nslookup-noanswer.txt",
     Verdict(True, f"empty: {NOADDR}", "empty: answered without an address")),
    # a resolver that never answers: not an NXDOMAIN (spec 10.1)
    (dns("slow", expect="nxdomain"), "busybox/nslookup-timeout.txt",
     Verdict(False, f"slow: {NX}", "slow: no answer (no servers could be reached)")),
    (dns("slow", expect="unresolved"), "busybox/nslookup-timeout.txt",
     Verdict(True, f"slow: {NOADDR}", "slow: no answer (no servers could be reached)")),
    (dns("no-such-host"), "busybox/nslookup-no-upstream.txt",
     Verdict(False, "no-such-host resolves",
             "no-such-host: no answer (no servers could be reached)")),
    # the default bridge with `dns: [127.0.0.1]`: no embedded DNS, nothing listening
    (dns("dnl-p11-d2", expect="nxdomain"), "busybox/nslookup-default-bridge-dead-resolver.txt",
     Verdict(False, f"dnl-p11-d2: {NX}",
             "dnl-p11-d2: no answer (write to '127.0.0.1': Connection refused)")),
    (dns("dnl-p11-d2", expect="unresolved"),
     "busybox/nslookup-default-bridge-dead-resolver.txt",
     Verdict(True, f"dnl-p11-d2: {NOADDR}",
             "dnl-p11-d2: no answer (write to '127.0.0.1': Connection refused)")),
    (dns("dnl-p11-c2", expect="nxdomain"), "busybox/nslookup-unreachable-server.txt",
     Verdict(False, f"dnl-p11-c2: {NX}",
             "dnl-p11-c2: no answer (no servers could be reached)")),
    # a name busybox cannot even send (an empty label): nothing answered either
    (dns("a..b", expect="unresolved"), "busybox/nslookup-bad-name.txt",
     Verdict(True, f"a..b: {NOADDR}",
             "a..b: no answer (write to '127.0.0.11': Message too long)")),
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
     Verdict(True, f"nosuch: {NX}", "nosuch: NXDOMAIN")),
    (dns("broken"), "gnu/nslookup-servfail.txt",
     Verdict(False, "broken resolves", "broken: SERVFAIL")),
    (dns("empty", expect="nxdomain"), "gnu/nslookup-noanswer.txt",
     Verdict(False, f"empty: {NX}", "empty: answered without an address")),
    (dns("empty", expect="unresolved"), "gnu/nslookup-noanswer.txt",
     Verdict(True, f"empty: {NOADDR}", "empty: answered without an address")),
    (dns("slow"), "gnu/nslookup-timeout.txt",
     Verdict(False, "slow resolves",
             "slow: no answer (communications error to 127.0.0.1#53: timed out)")),
    (dns("c2", expect="nxdomain"), "gnu/nslookup-refused.txt",
     Verdict(False, f"c2: {NX}",
             "c2: no answer (communications error to 127.0.0.2#53: connection refused)")),
    (dns("c2", expect="unresolved"), "gnu/nslookup-refused.txt",
     Verdict(True, f"c2: {NOADDR}",
             "c2: no answer (communications error to 127.0.0.2#53: connection refused)")),
])
def test_dns(probe: DnsProbe, fixture: str, verdict: Verdict) -> None:
    assert judge(probe, fixture) == verdict


def test_nslookup_header_addresses_are_not_answers() -> None:
    # old busybox (before 1.28): numbered addresses, the header with "Address 1:" too
    old = ("Server:    127.0.0.11\nAddress 1: 127.0.0.11\n\n"
           "Name:      c2\nAddress 1: 10.201.0.11 c2.lan\n")
    assert parse_nslookup(old) == Lookup(("10.201.0.11",))
    # bind with a CNAME: the canonical name's addresses are the answer
    cname = ("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#53\n\nNon-authoritative answer:\n"
             "www\tcanonical name = web.lan.\nName:\tweb.lan\nAddress: 10.0.0.7\n")
    assert parse_nslookup(cname) == Lookup(("10.0.0.7",))
    assert parse_nslookup("Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n") == \
        Lookup((), "Address:\t127.0.0.11:53")


LAB = """version: 1
name: lab
networks:
  lan: {subnet: 10.10.0.0/24}
containers:
  a: {image: busybox, networks: {lan: {ipv4: 10.10.0.10}}}
  b: {image: busybox, networks: {lan: {ipv4: 10.10.0.11}}}
probes:
"""


def _probes(entries: str) -> list[Any]:
    return list(load_source(Source("x.yaml", LAB + entries)).scenario.probes)


def test_query_is_the_name_to_resolve_and_name_its_label() -> None:
    p, = _probes("  - {type: dns, from: a, name: b has a name, query: b, expect: unresolved}\n")
    assert (p.name, p.name_given, p.query, p.expect) == ("b has a name", True, "b", "unresolved")
    assert command_for(Resolved(p, "a", "local")).script == "nslookup b"


def test_without_query_name_is_still_the_name_to_resolve() -> None:
    # a v1 file keeps its meaning (spec 10.1): the label is generated
    p, q = _probes("  - {type: dns, from: a, name: b}\n  - {type: dns, from: a, query: b}\n")
    assert (p.name, p.name_given, p.query) == ("dns a: b", False, "b")
    assert (q.name, q.name_given, q.query) == ("dns a: b #2", False, "b")  # the same probe


@pytest.mark.parametrize(("entry", "path", "message"), [
    ("{type: dns, from: a, query: 'x y'}", "probes[0].query",
     "the string 'x y' is not valid: expected a name of letters, digits, '_', '.' and '-'"),
    ("{type: dns, from: a, name: 'x y'}", "probes[0].name",
     "the string 'x y' is not valid: expected a name of letters, digits, '_', '.' and '-'"),
    ("{type: dns, from: a}", "probes[0]", "missing required key 'name'"),
    ("{type: dns, from: a, query: b, expect: unresolved, address: 10.10.0.11}",
     "probes[0].address", "`address` makes no sense with expect: unresolved"),
])
def test_dns_field_errors_are_located(entry: str, path: str, message: str) -> None:
    with pytest.raises(ScenarioInvalid) as info:
        _probes(f"  - {entry}\n")
    assert [(i.line, i.path, i.message) for i in info.value.issues] == [(9, path, message)]
