"""Batching many probes into one sh script, and the derived --auto probes (pure)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from dnetlab.load.pipeline import load_source
from dnetlab.load.source import Source
from dnetlab.probes.base import Command
from dnetlab.verify import batch
from dnetlab.verify.auto import derived


def _run(commands: list[Command]) -> batch.Parsed:
    token = batch.new_token()
    out = subprocess.run(["sh", "-c", batch.script(commands, token)], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return batch.parse(out, token)


def test_each_command_keeps_its_output_and_exit_code() -> None:
    parsed = _run([Command("echo one; exit 3", ("sh",)), Command("printf 'a\\nb'", ()),
                   Command("echo err >&2; true", ())])
    assert parsed.results[0] == batch.BatchOutput(3, "one")
    assert parsed.results[1] == batch.BatchOutput(0, "a\nb")
    assert parsed.results[2] == batch.BatchOutput(0, "err")
    assert parsed.skipped == {}


def test_commands_run_side_by_side() -> None:
    import time

    started = time.monotonic()
    parsed = _run([Command("sleep 1; echo x", ()) for _ in range(5)])
    assert time.monotonic() - started < 4  # five 1 s sleeps, not 5 s in a row
    assert all(parsed.results[i].output == "x" for i in range(5))


def test_missing_tools_are_reported_not_run() -> None:
    parsed = _run([Command("dnetlab-no-such-tool", ("dnetlab-no-such-tool",)),
                   Command("echo ok", ("sh",))])
    assert parsed.skipped == {0: ("dnetlab-no-such-tool",)}
    assert 0 not in parsed.results and parsed.results[1].output == "ok"


def test_output_that_looks_like_a_marker_of_another_run_is_kept() -> None:
    parsed = _run([Command("echo '@@dnl-00000000 end 0'; echo real", ())])
    assert parsed.results[0].output == "@@dnl-00000000 end 0\nreal"


ISOLATED = """
version: 1
name: iso
networks:
  n1: {subnet: 10.11.1.0/24}
  n2: {subnet: 10.11.2.0/24}
containers:
  a: {image: busybox, networks: [n1]}
  b: {image: busybox, networks: [n2]}
  both: {image: busybox, networks: [n1, n2]}
  alone: {image: busybox, network_mode: none}
"""


def test_auto_derives_reach_and_isolation() -> None:
    sc = load_source(Source("iso.yaml", ISOLATED)).scenario
    probes = {p.name: p for p in derived(sc)}
    assert set(probes) == {
        "auto: a -> both@n1", "auto: both -> a@n1", "auto: b -> both@n2",
        "auto: both -> b@n2", "auto: a -/-> b@n2", "auto: b -/-> a@n1",
    }
    assert probes["auto: a -/-> b@n2"].expect == "unreachable"  # type: ignore[union-attr]
    assert probes["auto: a -> both@n1"].expect == "reachable"  # type: ignore[union-attr]


def test_one_at_a_time_commands_do_not_overlap(tmp_path: Path) -> None:
    # each writes its start and end to a shared log; two at once would interleave
    log = tmp_path / "log"
    cmds = [Command(f"echo start{i} >>{log}; sleep 0.3; echo end{i} >>{log}",
                    one_at_a_time=True) for i in range(3)]
    cmds.append(Command("echo free"))
    token = batch.new_token()
    done = subprocess.run(["sh", "-c", batch.script(cmds, token)], capture_output=True,
                          text=True, check=True, timeout=10)
    parsed = batch.parse(done.stdout, token)
    assert sorted(parsed.results) == [0, 1, 2, 3]
    assert log.read_text().split() == ["start0", "end0", "start1", "end1", "start2", "end2"]
