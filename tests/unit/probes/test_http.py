"""`http` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.http import HttpProbe, parse_wget
from dnetlab.probes.output import SECTION
from tests.unit.probes.kit import BASE, judge, judge_text


def http(**kw: Any) -> HttpProbe:
    return HttpProbe(**BASE, source="c1", url="http://c2/", **kw)


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
    res = parse_wget(out)
    assert (res.status, res.body, res.error) == (200, "HTTP/1.1 404 x\n", None)
