"""verify's output: the JSON and JUnit contracts (spec section 9) and the terminal table."""

from __future__ import annotations

import io
import json
import threading
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml
from rich.console import Console

from dnetlab.cli.verify_view import OUTPUT_LINES, LiveProgress, print_table
from dnetlab.verify.export import json_text, to_json, to_junit, write_output, xml_safe
from dnetlab.verify.outcome import ProbeResult, Report

PASSED_OUT = "PING 10.0.0.2 (10.0.0.2): 56 data bytes\n3 packets transmitted, 3 received"
# Markup-looking text, XML specials, quotes, non-ASCII, ANSI colour and a NUL.
FAILED_OUT = ("HTTP/1.1 503 <Service Unavailable> & \"quoted\" 'single'\n"
              "\x1b[31mcafé ünïcødé ✓ 日本\x1b[0m\x00 [bold]not markup[/bold]\n")
ERROR_OUT = "sh: 1: dig: not found\x07\x0b\x1f\n"

PASSED = ProbeResult("ping a1 -> b1", "ping", "passed", "reachable, at most 0% loss",
                     "3 of 3 replies, 0% loss", PASSED_OUT, 0.8123, "a1")
FAILED = ProbeResult("http a1 -> web <&> \"x\"", "http", "failed", "status 200 & 'ok'",
                     "status 503 <déjà>", FAILED_OUT, 1.25, "a1", attempts=3)
ERRORED = ProbeResult("dns b1 résout", "dns", "error", "-", "could not run: no helper",
                      ERROR_OUT, 0.0, "host:h1")
REPORT = Report("demo-lab", (PASSED, FAILED, ERRORED), 2.3456)
WHEN = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)

PROBE_KEYS = ["name", "type", "status", "expected", "actual", "output", "duration_s",
              "runs_on", "attempts", "recovered_after_s"]


# --- JSON ---------------------------------------------------------------------------------


def test_json_has_the_contract_keys_in_order() -> None:
    data = json.loads(json_text(REPORT))
    assert list(data) == ["scenario", "summary", "probes"]
    assert list(data["summary"]) == ["total", "passed", "failed", "errors", "duration_s"]
    for probe in data["probes"]:
        assert list(probe) == PROBE_KEYS
    assert data == to_json(REPORT)


def test_json_values() -> None:
    data = json.loads(json_text(REPORT))
    assert data["scenario"] == "demo-lab"
    assert data["summary"] == {"total": 3, "passed": 1, "failed": 1, "errors": 1,
                               "duration_s": 2.346}
    assert [p["status"] for p in data["probes"]] == ["passed", "failed", "error"]
    assert data["probes"][0] == {
        "name": "ping a1 -> b1", "type": "ping", "status": "passed",
        "expected": "reachable, at most 0% loss", "actual": "3 of 3 replies, 0% loss",
        "output": PASSED_OUT, "duration_s": 0.812, "runs_on": "a1", "attempts": 1,
        "recovered_after_s": None}
    failed = data["probes"][1]
    assert failed["name"] == FAILED.name
    assert failed["expected"] == "status 200 & 'ok'"
    assert failed["actual"] == "status 503 <déjà>"
    assert failed["attempts"] == 3
    # The raw output survives unchanged, control characters and all.
    assert failed["output"] == FAILED_OUT
    assert data["probes"][2]["output"] == ERROR_OUT
    assert data["probes"][2]["runs_on"] == "host:h1"


def test_json_text_is_stable_and_readable() -> None:
    text = json_text(REPORT)
    assert text == json_text(REPORT)
    assert text.endswith("}\n")
    assert "café" in text  # non-ASCII kept as is
    assert "\x00" not in text and "\x1b" not in text  # controls escaped by JSON
    assert "\\u001b[31m" in text


def test_json_of_an_empty_report() -> None:
    data = json.loads(json_text(Report("empty", (), 0.0)))
    assert data == {"scenario": "empty", "summary": {"total": 0, "passed": 0, "failed": 0,
                                                     "errors": 0, "duration_s": 0.0},
                    "probes": []}


# --- JUnit --------------------------------------------------------------------------------


def _junit_suite(text: str):  # type: ignore[no-untyped-def]
    xml = JUnitXml.fromstring(text.encode("utf-8"))
    suites = list(xml)
    assert len(suites) == 1
    return xml, suites[0]


def test_junit_declaration_and_encoding() -> None:
    text = to_junit(REPORT, WHEN)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "\x00" not in text and "\x1b" not in text and "\x07" not in text
    assert "café" in text


def test_junit_parses_with_junitparser() -> None:
    xml, suite = _junit_suite(to_junit(REPORT, WHEN))
    assert (xml.tests, xml.failures, xml.errors) == (3, 1, 1)
    assert suite.name == "demo-lab"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 1, 1, 0)
    assert suite.time == pytest.approx(2.346)
    assert suite.timestamp == "2024-05-01T12:00:00"

    cases = list(suite)
    assert [c.name for c in cases] == [PASSED.name, FAILED.name, ERRORED.name]
    assert [c.classname for c in cases] == ["dnetlab.demo-lab.ping", "dnetlab.demo-lab.http",
                                            "dnetlab.demo-lab.dns"]
    assert [c.time for c in cases] == pytest.approx([0.812, 1.25, 0.0])
    passed, failed, errored = cases

    assert passed.is_passed and passed.result == []
    assert passed.system_out == PASSED_OUT

    assert failed.is_failure
    (failure,) = failed.result
    assert isinstance(failure, Failure)
    assert failure.message == "expected status 200 & 'ok', got status 503 <déjà>"
    assert failure.type == "failed"
    assert "expected: status 200 & 'ok'" in failure.text
    assert "actual: status 503 <déjà>" in failure.text
    assert failed.system_out == (
        "HTTP/1.1 503 <Service Unavailable> & \"quoted\" 'single'\n"
        "\\x1b[31mcafé ünïcødé ✓ 日本\\x1b[0m\\x00 [bold]not markup[/bold]\n")

    assert errored.is_error
    (error,) = errored.result
    assert isinstance(error, Error)
    assert error.message == "could not run: no helper"
    assert error.type == "error"
    assert errored.system_out == "sh: 1: dig: not found\\x07\\x0b\\x1f\n"


def test_junit_from_a_file(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "nested" / "junit.xml"
    write_output(to_junit(REPORT, WHEN), out)
    xml = JUnitXml.fromfile(str(out))
    (suite,) = list(xml)
    assert (suite.name, suite.tests, suite.failures, suite.errors) == ("demo-lab", 3, 1, 1)
    assert [c.name for c in suite] == [PASSED.name, FAILED.name, ERRORED.name]
    assert out.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "日本".encode() in out.read_bytes()


def test_junit_structure_with_elementtree() -> None:
    root = ET.fromstring(to_junit(REPORT, WHEN).encode("utf-8"))
    assert root.tag == "testsuites"
    assert root.attrib == {"name": "dnetlab verify", "tests": "3", "failures": "1",
                           "errors": "1", "time": "2.346"}
    (suite,) = list(root)
    assert suite.tag == "testsuite"
    assert suite.attrib == {"name": "demo-lab", "tests": "3", "failures": "1", "errors": "1",
                            "skipped": "0", "time": "2.346",
                            "timestamp": "2024-05-01T12:00:00"}
    cases = list(suite)
    assert [c.tag for c in cases] == ["testcase"] * 3
    assert [[child.tag for child in c] for c in cases] == [
        ["system-out"], ["failure", "system-out"], ["error", "system-out"]]
    assert cases[1].attrib == {"name": FAILED.name, "classname": "dnetlab.demo-lab.http",
                               "time": "1.250"}
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.attrib == {"message": "expected status 200 & 'ok', got status 503 <déjà>",
                              "type": "failed"}
    error = cases[2].find("error")
    assert error is not None
    assert error.attrib == {"message": "could not run: no helper", "type": "error"}
    assert error.text is not None and "runs on: host:h1" in error.text


def test_junit_leaves_out_empty_output_and_defaults_the_timestamp() -> None:
    quiet = ProbeResult("quiet", "exec", "passed", "exit 0", "exit 0", "", 0.1, "a1")
    root = ET.fromstring(to_junit(Report("q", (quiet,), 0.1)).encode())
    suite = root.find("testsuite")
    assert suite is not None
    case = suite.find("testcase")
    assert case is not None and case.find("system-out") is None
    stamp = datetime.fromisoformat(suite.attrib["timestamp"])
    assert stamp.tzinfo is None
    assert abs((datetime.now(UTC).replace(tzinfo=None) - stamp).total_seconds()) < 60


def test_junit_of_an_empty_report() -> None:
    _, suite = _junit_suite(to_junit(Report("empty", (), 0.0), WHEN))
    assert (suite.name, suite.tests, suite.failures, suite.errors) == ("empty", 0, 0, 0)
    assert list(suite) == []


@settings(max_examples=200, deadline=None)
@given(name=st.text(), output=st.text(), actual=st.text())
def test_junit_always_parses(name: str, output: str, actual: str) -> None:
    """Whatever a probe printed or was called, the file parses and keeps what XML can hold."""
    r = ProbeResult(name, "exec", "failed", "exit 0", actual, output, 0.5, "a1")
    text = to_junit(Report("any", (r,), 0.5), WHEN)
    text.encode("utf-8")  # no lone surrogates left
    _, suite = _junit_suite(text)
    (case,) = list(suite)
    assert case.name == xml_safe(name)
    assert case.system_out == (xml_safe(output) if output else None)
    (failure,) = case.result
    assert failure.message == xml_safe(f"expected exit 0, got {actual}")


def test_xml_safe() -> None:
    assert xml_safe("a\x00b\x1b[31mc\td\r\ne\rf\ufffe") == "a\\x00b\\x1b[31mc\td\ne\nf\\ufffe"
    assert xml_safe("<&> \"' é") == "<&> \"' é"  # escaping of specials is ElementTree's job


# --- table --------------------------------------------------------------------------------


def _table(report: Report, verbose: bool = False) -> str:
    console = Console(file=io.StringIO(), width=160, record=True, color_system=None)
    print_table(report, console=console, verbose=verbose)
    return console.export_text()


def test_table_shows_every_probe_and_the_summary() -> None:
    text = _table(REPORT)
    for r in REPORT.results:
        assert r.name in text
    for word in ("PASS", "FAIL", "ERROR"):
        assert word in text
    for words in ("reachable, at most 0% loss", "3 of 3 replies, 0% loss",
                  "status 200 & 'ok'", "status 503 <déjà>", "could not run: no helper"):
        assert words in text
    lines = text.rstrip("\n").split("\n")
    assert lines[-1] == "1 passed, 1 failed, 1 errors in 2.35 s"


def test_table_shows_raw_output_of_failures_only() -> None:
    text = _table(REPORT)
    assert "    HTTP/1.1 503 <Service Unavailable> & \"quoted\" 'single'" in text
    # Colour codes and NULs from the container are shown, not sent to the terminal;
    # text that looks like rich markup stays literal.
    assert "    \\x1b[31mcafé ünïcødé ✓ 日本\\x1b[0m\\x00 [bold]not markup[/bold]" in text
    assert "    sh: 1: dig: not found\\x07\\x0b\\x1f" in text
    assert "\x1b" not in text and "\x00" not in text
    assert "PING 10.0.0.2" not in text  # a passed probe's output is not repeated


def test_table_trims_long_output_unless_verbose() -> None:
    long = "\n".join(f"line {i:03}" for i in range(100))
    r = ProbeResult("long", "exec", "failed", "exit 0", "exit 1", long, 0.1, "a1")
    report = Report("lab", (r,), 0.1)
    short = _table(report)
    assert "line 000" in short and "line 099" in short
    shown = [n for n in range(100) if f"line {n:03}" in short]
    assert len(shown) == OUTPUT_LINES
    assert "80 lines left out (-v shows all)" in short
    full = _table(report, verbose=True)
    assert all(f"line {n:03}" in full for n in range(100))
    assert "left out" not in full


def test_table_all_passed_and_empty() -> None:
    text = _table(Report("lab", (PASSED,), 1.0))
    assert text.rstrip("\n").split("\n")[-1] == "1 passed, 0 failed, 0 errors in 1.00 s"
    empty = _table(Report("lab", (), 0.0))
    assert "no probes" in empty
    assert empty.rstrip("\n").split("\n")[-1] == "0 passed, 0 failed, 0 errors in 0.00 s"


def test_table_without_a_console_on_a_pipe_is_160_wide(
        capsys: pytest.CaptureFixture[str]) -> None:
    wide = ProbeResult("tcp " + "x" * 60, "tcp", "failed", "open fd00:1234:5678:9abc::10 port 80",
                       "closed fd00:1234:5678:9abc::10 port 80", "", 0.1, "a1")
    print_table(Report("lab", (wide,), 0.1))
    out = capsys.readouterr().out
    assert "fd00:1234:5678:9abc::10 port 80" in out  # not folded
    assert max(len(line) for line in out.splitlines()) > 80
    assert "\x1b[" not in out  # no colour codes on a pipe
    assert out.rstrip("\n").split("\n")[-1] == "0 passed, 1 failed, 0 errors in 0.10 s"


# --- progress -----------------------------------------------------------------------------


def test_progress_is_silent_without_a_terminal() -> None:
    buf = io.StringIO()
    progress = LiveProgress(stream=buf)
    assert not progress.enabled
    progress.start(3, "verifying lab demo")
    for r in REPORT.results:
        progress.result(r)
    progress.finish()
    assert buf.getvalue() == ""
    assert (progress.done, progress.failed) == (3, 2)


def test_progress_on_a_terminal_from_many_threads() -> None:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    progress = LiveProgress(console=console)
    assert progress.enabled
    progress.start(600, "verifying lab demo")  # 8 threads x 25 x 3 results
    workers = [threading.Thread(target=lambda: [progress.result(r) for r in REPORT.results * 25])
               for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert progress.progress is not None and progress.task is not None
    task = progress.progress.tasks[0]
    assert task.completed == 600 and task.total == 600
    assert task.description == "verifying lab demo (400 not passed)"
    progress.finish()
    progress.finish()  # twice is fine
    assert (progress.done, progress.failed) == (600, 400)


def test_progress_ignores_calls_out_of_order() -> None:
    progress = LiveProgress(console=Console(file=io.StringIO(), force_terminal=True))
    progress.result(PASSED)  # before start
    progress.finish()  # finish without start
    with progress:
        progress.start(1, "verifying lab x")
        progress.result(PASSED)
    assert progress.progress is None


# --- files --------------------------------------------------------------------------------


def test_write_output_creates_directories_and_writes_utf8(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.json"
    write_output(json_text(REPORT), target)
    assert json.loads(target.read_text(encoding="utf-8")) == to_json(REPORT)
    write_output("second\n", str(target))  # overwrites; str paths work too
    assert target.read_text(encoding="utf-8") == "second\n"
