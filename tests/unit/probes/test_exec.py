"""`exec` on the real output of its command (the captures: see kit.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dnetlab.probes.base import Verdict
from dnetlab.probes.exec import ExecProbe
from tests.unit.probes.kit import BASE, judge


def exec_(*command: str, **kw: Any) -> ExecProbe:
    return ExecProbe(**BASE, on="c1", command=command, **kw)


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
