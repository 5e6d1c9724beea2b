"""`dns` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.dns import DnsProbe, Lookup, parse_nslookup
from tests.unit.probes.kit import BASE, judge


def dns(query: str, **kw: Any) -> DnsProbe:
    return DnsProbe(**BASE, source="c1", query=query, **kw)


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
    assert parse_nslookup(old) == Lookup(("10.201.0.11",))
    # bind with a CNAME: the canonical name's addresses are the answer
    cname = ("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1#53\n\nNon-authoritative answer:\n"
             "www\tcanonical name = web.lan.\nName:\tweb.lan\nAddress: 10.0.0.7\n")
    assert parse_nslookup(cname) == Lookup(("10.0.0.7",))
    assert parse_nslookup("Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n") == \
        Lookup((), "Address:\t127.0.0.11:53")
