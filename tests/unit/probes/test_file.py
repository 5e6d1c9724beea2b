"""`file` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.file import FileProbe
from tests.unit.probes.kit import BASE, judge


def file(path: str = "/etc/hosts", **kw: Any) -> FileProbe:
    return FileProbe(**BASE, on="c1", path=path, **kw)


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
