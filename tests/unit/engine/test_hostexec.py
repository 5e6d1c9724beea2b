"""The many-execs-in-one-SSH-command wire format: the host script run by a real `sh`
(with a stand-in `docker` on PATH that runs the job locally), and the parser's refusals."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnetlab.engine.hostexec import (
    ARGV_SCRIPT_MAX,
    FramingError,
    Job,
    JobResult,
    host_script,
    new_mark,
    parse,
)

# `docker exec [-i] CONTAINER sh -c SCRIPT|-s` run here; a container named "gone" does not
# exist. Its own exec of `sh -c SCRIPT` has the kernel's argument limit, as docker's has.
FAKE_DOCKER = """#!/bin/sh
[ "$1" = exec ] || exit 99
shift
[ "$1" = -i ] && shift
if [ "$1" = gone ]; then
  echo "Error response from daemon: No such container: gone" >&2
  exit 1
fi
shift
exec "$@"
"""


Runner = Callable[..., list[JobResult]]


@pytest.fixture
def on_host(tmp_path: Path) -> Runner:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(FAKE_DOCKER)
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    def run(jobs: list[Job], parallel: int = 4) -> list[JobResult]:
        mark = new_mark()
        done = subprocess.run(["sh", "-s"], input=host_script(jobs, mark, parallel).encode(),
                              capture_output=True, env=env, timeout=60, check=True)
        assert done.stderr == b""
        return parse(done.stdout, mark, len(jobs))

    return run


def test_exit_codes_outputs_and_a_job_docker_could_not_start(on_host: Runner) -> None:
    run = on_host
    got = run([Job("c1", "echo out; echo err >&2; exit 7"), Job("gone", "true"),
               Job("c2", "printf 'no newline'")])
    assert got[0] == JobResult(True, 7, "out\nerr\n")
    assert got[1].started is False and got[1].exit_code == 1
    assert "No such container: gone" in got[1].output
    assert got[2] == JobResult(True, 0, "no newline")


def test_more_jobs_than_the_parallel_limit_all_come_back_in_order(on_host: Runner) -> None:
    run = on_host
    jobs = [Job(f"c{i}", f"echo job-{i}; exit {i % 5}") for i in range(23)]
    got = run(jobs, parallel=3)
    assert [(r.exit_code, r.output) for r in got] == [(i % 5, f"job-{i}\n") for i in range(23)]


def test_quotes_markers_and_binary_survive(on_host: Runner) -> None:
    run = on_host
    tricky = "printf '%s\\n' \"it's\" '\"q\"' '$HOME' '`x`'; printf 'a\\0b\\377'"
    fake_frame = "echo '@@dnl-x-000000000000 0 0 3 0'; echo '@@dnl-x-000000000000'"
    got = run([Job("c", tricky), Job("c", fake_frame)])
    assert got[0].output == "it's\n\"q\"\n$HOME\n`x`\na\0b\ufffd"
    assert got[1].output == "@@dnl-x-000000000000 0 0 3 0\n@@dnl-x-000000000000\n"


def test_a_script_over_the_argument_limit_goes_on_stdin(on_host: Runner) -> None:
    # 300 KiB: as one argument (`sh -c SCRIPT`) the kernel refuses it (E2BIG, over 128 KiB)
    big = "".join(f": {'x' * 1000} {i}\n" for i in range(300)) + "echo big-done; exit 4"
    with pytest.raises(OSError, match="Argument list too long"):
        subprocess.run(["sh", "-c", big], check=False)
    jobs = [Job("c1", "echo small; exit 2"), Job("c2", big), Job("c3", "read x; echo [$x]"),
            Job("gone", big)]
    script = host_script(jobs, "@@dnl-x-000000000000", 4)
    assert script.count("docker exec -i ") == 2  # only the big ones take stdin
    got = on_host(jobs)
    assert got[0] == JobResult(True, 2, "small\n")
    assert got[1] == JobResult(True, 4, "big-done\n")
    assert got[2] == JobResult(True, 0, "[]\n")  # a small job's stdin is still empty
    assert got[3].started is False and "No such container: gone" in got[3].output


def test_the_stdin_threshold_is_well_under_the_kernel_limit() -> None:
    assert ARGV_SCRIPT_MAX <= 128 * 1024 // 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 255), st.binary(max_size=300),
                          st.binary(max_size=50)), max_size=6))
def test_parse_reads_back_any_framed_reply(jobs: list[tuple[bool, int, bytes, bytes]]) -> None:
    mark = new_mark()
    reply = b""
    for i, (started, rc, out, err) in enumerate(jobs):
        body = (mark.encode() + b"\n" + out) if started else out
        reply += f"{mark} {i} {rc} {len(body)} {len(err)}\n".encode() + body + err
    got = parse(reply, mark, len(jobs))
    for (started, rc, out, err), r in zip(jobs, got, strict=True):
        assert r.exit_code == rc
        if started:
            assert r == JobResult(True, rc, out.decode(errors="replace"))
        else:  # docker's own words: its stderr, then anything it printed
            said = (err.decode(errors="replace") + out.decode(errors="replace")).strip()
            assert r.started is False and (r.output == said or not said)


def test_what_a_login_shell_prints_before_the_frames_is_skipped() -> None:
    mark = new_mark()
    frame = f"{mark} 0 3 {len(mark) + 4} 0\n{mark}\nok\n".encode()
    reply = b"Welcome!\nLast login: never\n" + frame
    assert parse(reply, mark, 1) == [JobResult(True, 3, "ok\n")]


@pytest.mark.parametrize(("reply", "says"), [
    (b"Welcome to the host!\n", "unexpected output from the host"),
    (b"MARK 0 0 10 0\nshort", "cut short"),
    (b"MARK 0 zero 1 0\nx", "bad header"),
    (b"", "no reply for job(s) 0"),
])
def test_parse_refuses_what_is_not_the_framing(reply: bytes, says: str) -> None:
    with pytest.raises(FramingError, match=re.escape(says)):
        parse(reply.replace(b"MARK", b"@@dnl-x-aaaaaaaaaaaa"), "@@dnl-x-aaaaaaaaaaaa", 1)
