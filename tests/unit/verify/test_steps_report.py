"""verify --steps reports: the JSON `steps` list, one JUnit testsuite per step, a table
section per step (spec section 10.3)."""

from __future__ import annotations

import io
import json

from junitparser import Failure, JUnitXml, Skipped
from rich.console import Console

from dnetlab.cli.verify_view import print_table
from dnetlab.verify.export import json_text, to_junit
from dnetlab.verify.outcome import ActionResult, ProbeResult, Report, StepResult

STATIC = ProbeResult("ping c1 -> c2", "ping", "passed", "reachable", "3 of 3", "out", 0.8, "c1")
GONE = ProbeResult("ping c1 -> c2", "ping", "passed", "unreachable", "0 of 3", "out", 2.1, "c1")
BACK = ProbeResult("tcp c1 -> c2:80", "tcp", "passed", "open", "connected", "", 2.6, "c1",
                   attempts=13, recovered_after_s=2.41)
STILL = ProbeResult("ping c1 -> c3", "ping", "failed", "reachable", "0 of 3", "lost", 5.0, "c1",
                    attempts=25)
DONE = ActionResult("disconnect", "disconnect c2 from net1", "done", "", 0.21)
FAILED = ActionResult("unpause", "unpause c2", "failed", "Container c2 is not paused", 0.05)
SKIPPED = ActionResult("start", "start c2", "not run", "an action of step 'b' failed", 0.0)
REPORT = Report("lab", (STATIC,), 9.5, (), (
    StepResult("c2 leaves", (DONE,), (GONE,), 2.4),
    StepResult("c2 comes back", (DONE,), (BACK, STILL), 5.3),
    StepResult("b", (FAILED, SKIPPED), (), 0.1),
), "restored to its declared state: 2 change(s) in 1.20 s")


def test_json_lists_each_step_with_its_actions_and_probes() -> None:
    data = json.loads(json_text(REPORT))
    assert list(data) == ["scenario", "summary", "probes", "steps", "restored"]
    assert data["summary"]["total"] == 4 and data["summary"]["failed"] == 1
    assert [s["name"] for s in data["steps"]] == ["c2 leaves", "c2 comes back", "b"]
    assert [s["status"] for s in data["steps"]] == ["passed", "failed", "failed"]
    first = data["steps"][0]
    assert first["actions"] == [{"action": "disconnect c2 from net1", "kind": "disconnect",
                                 "status": "done", "message": "", "duration_s": 0.21}]
    back = data["steps"][1]["probes"][0]
    assert back["recovered_after_s"] == 2.41 and back["attempts"] == 13
    assert data["probes"][0]["recovered_after_s"] is None
    assert [a["status"] for a in data["steps"][2]["actions"]] == ["failed", "not run"]
    assert data["restored"].startswith("restored")


def test_a_report_without_steps_keeps_the_v1_shape() -> None:
    data = json.loads(json_text(Report("lab", (STATIC,), 1.0)))
    assert list(data) == ["scenario", "summary", "probes"]


def test_junit_has_one_testsuite_per_step() -> None:
    xml = JUnitXml.fromstring(to_junit(REPORT))
    suites = list(xml)
    assert [s.name for s in suites] == ["lab", "lab / step 1: c2 leaves",
                                        "lab / step 2: c2 comes back", "lab / step 3: b"]
    step2 = suites[2]
    cases = {c.name: c for c in step2}
    assert set(cases) == {"do: disconnect c2 from net1", "tcp c1 -> c2:80", "ping c1 -> c3"}
    assert isinstance(cases["ping c1 -> c3"].result[0], Failure)
    assert step2.tests == 3 and step2.failures == 1
    step3 = {c.name: c for c in suites[3]}
    assert isinstance(step3["do: unpause c2"].result[0], Failure)
    assert isinstance(step3["do: start c2"].result[0], Skipped)
    assert xml.tests == 1 + 2 + 3 + 2 and xml.failures == 2


def test_table_has_a_section_per_step() -> None:
    buf = io.StringIO()
    print_table(REPORT, console=Console(file=buf, width=160, color_system=None))
    text = buf.getvalue()
    for line in ("step 1: c2 leaves", "step 2: c2 comes back", "step 3: b",
                 "DONE disconnect c2 from net1",
                 "FAIL unpause c2: Container c2 is not paused",
                 "SKIP start c2: an action of step 'b' failed",
                 "recovered after 2.41 s",
                 "afterwards: restored to its declared state"):
        assert line in text, line
    assert text.index("step 1") < text.index("step 2") < text.index("step 3")
    assert "3 passed, 1 failed, 0 errors" in text
