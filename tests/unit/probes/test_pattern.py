"""The engine of a scenario's regular expressions (probes/pattern.py): whatever a pattern
does when compiled is a message, never an exception; re's semantics for the patterns re
knows; a match that backtracks without end stops after its time bound and makes the probe
an error."""

from __future__ import annotations

import re
import time

import pytest

from dnetlab.probes import pattern
from dnetlab.probes.base import Resolved, Verdict
from dnetlab.probes.exec import ExecProbe
from dnetlab.probes.file import FileProbe
from dnetlab.probes.registry import check
from tests.unit.probes.kit import BASE, judge_text

# 'a'*40 + '!' against these: re takes hours (2**40 ways to split the a's); regex gives up
CATASTROPHIC = [r"^(a|a)+$", r"^(a|aa)+$", r"(?:a|a)+b"]


@pytest.mark.parametrize(("text", "message"), [
    # re raised OverflowError for the first two: dnetlab reported an internal error
    ("a{99999999999}", "invalid regular expression: repeat count too big at position 2"),
    ("a{4294967295}", "invalid regular expression: repeat count too big at position 2"),
    ("(unclosed", "invalid regular expression: missing ) at position 9"),
    ("a{2,1}", "invalid regular expression: min repeat greater than max repeat at position 2"),
    ("(" * 5000 + ")" * 5000, "invalid regular expression: it nests too deeply"),
    # VERSION1 would change the semantics that validation promised
    ("(?V1)x", "invalid regular expression: VERSION0 and VERSION1 flags are mutually "
               "incompatible"),
])
def test_a_pattern_that_does_not_compile_is_a_message(text: str, message: str) -> None:
    assert pattern.compile_problem(text) == message


@pytest.mark.parametrize("text", [
    r"^10\.201\.0\.10\s+c1\b", r"(?m)^nameserver (\d+\.){3}\d+$", r"(?P<n>a)(?P=n)",
    r"[^\W\d_]+", r"(?i)ETH0", r"a{0,4294967294}", r"x{1,100}(?:ab){50}",
])
def test_re_patterns_compile(text: str) -> None:
    assert pattern.compile_problem(text) is None


@pytest.mark.parametrize(("text", "subject"), [
    (r"^10\.201\.0\.10\s+c1\b", "127.0.0.1 localhost\n10.201.0.10\tc1\n"),
    (r"\d+$", "x 1\ny 22\nz"),  # $ at every line: the first line that ends in digits
    (r"^$", "a\n\nb"),
    (r"(a*)*b", "aaab"),
    (r"\bcafé\b", "un café noir"),
    (r"(?s)a.b", "a\nb"),
    (r"\w+@\w+", "mail root@c1 now"),
    (r"x|", "abc"),  # an empty match at the start
])
def test_the_same_matches_as_re(text: str, subject: str) -> None:
    expected = re.search(text, subject, re.MULTILINE)
    got = pattern.search(text, subject)
    assert got.problem is None
    assert got.found == (expected.group(0) if expected else None)


def test_counts_that_multiply_are_not_cheap_to_compile() -> None:
    assert pattern.cheap_to_compile(r"^\d{1,3}(\.\d{1,3}){3}$")
    assert pattern.cheap_to_compile("(?:ab){10000}")
    assert not pattern.cheap_to_compile("(?:ab){10001}")
    assert not pattern.cheap_to_compile("(?:(?:a{100}){100}){2}")
    assert not pattern.cheap_to_compile("a{100000,}")


@pytest.mark.parametrize("text", CATASTROPHIC)
def test_a_catastrophic_match_ends_within_the_bound(text: str) -> None:
    started = time.monotonic()
    got = pattern.search(text, "a" * 40 + "!")
    elapsed = time.monotonic() - started
    assert got == pattern.Searched(None, "the pattern took longer than 1 s on 41 bytes of "
                                         "output; simplify it")
    # the bound is 1 s of processor time; wall time on a busy machine runs a little longer
    assert elapsed < 3


def test_an_exec_probe_whose_pattern_times_out_is_an_error() -> None:
    probe = ExecProbe(**BASE, on="c1", command=("sh", "-c", "echo ..."),
                      stdout_matches="^(a|a)+$")
    started = time.monotonic()
    verdict = judge_text(probe, "a" * 40 + "!\n")
    assert time.monotonic() - started < 3
    assert verdict == Verdict(False, "output matches /^(a|a)+$/",
                              "the pattern took longer than 1 s on 42 bytes of output; "
                              "simplify it", error=True)


def test_a_file_probe_whose_pattern_times_out_is_an_error_naming_the_file() -> None:
    probe = FileProbe(**BASE, on="c1", path="/data", contains=("a",), matches="(?:a|a)+b")
    verdict = check(Resolved(probe, "c1", "local"), 0, "a" * 100)
    assert verdict.error and not verdict.passed
    assert verdict.actual == ("the pattern took longer than 1 s on 100 bytes of the file; "
                              "simplify it")


def test_a_pattern_that_was_never_validated_is_an_error_too() -> None:
    probe = ExecProbe(**BASE, on="c1", command=("true",), stdout_matches="(")
    verdict = judge_text(probe, "")
    assert verdict.error and verdict.actual == "invalid regular expression: missing ) at " \
                                               "position 1"
