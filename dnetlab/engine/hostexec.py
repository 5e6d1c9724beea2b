"""Many `docker exec` in one SSH command: the script sent to the host and the parsing of
what comes back. Pure: no connection here (`exec` sends and reads).

Over SSH each engine request needs a channel, and a new channel costs a session, the
user's login shell and a remote `docker system dial-stdio` (0.3 s on the test hosts), while
attached execs never give their channel back. So the probe batches of all source
containers on one host go in one command that runs `docker exec` for each of them on the
host itself, side by side, and sends every output back framed by its length.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    container: str  # name or ID on that host
    script: str  # run by `sh -c` in the container


@dataclass(frozen=True)
class JobResult:
    started: bool  # False: docker could not run the shell (no such container, no `sh`...)
    exit_code: int
    output: str  # the script's stdout and stderr; docker's own message when not started


# The largest script that goes in an argument (`sh -c SCRIPT`): Linux refuses one argument
# over MAX_ARG_STRLEN (128 KiB) with E2BIG, so a larger one goes on stdin or in a file. A
# small one stays in argv, the path of every ordinary batch, as fast as it was.
ARGV_SCRIPT_MAX = 64 * 1024


# How the host runs the script: `sh -s` reads it from the session's stdin (no argument to
# outgrow), so the session can be opened, and the command started, before the script
# exists (`ssh.PreparedCommand`).
COMMAND = "sh -s"


def too_big_for_argv(script: str) -> bool:
    return len(script.encode(errors="replace")) > ARGV_SCRIPT_MAX


def new_mark() -> str:
    return "@@dnl-x-" + secrets.token_hex(6)


def host_script(jobs: Sequence[Job], mark: str, parallel: int) -> str:
    """A POSIX sh script for the host: every job as `docker exec`, at most `parallel` at a
    time (in `parallel` lanes), then for each job one header line `MARK INDEX RC OUT_BYTES
    ERR_BYTES` followed by exactly that many bytes of its stdout and of docker's stderr.
    A job's script goes in as `sh -c SCRIPT`, or past `ARGV_SCRIPT_MAX` on the shell's
    stdin."""
    parallel = max(1, parallel)
    lines = [
        'd=$(mktemp -d /tmp/dnetlab-x.XXXXXX) || exit 97',
        "trap 'rm -rf \"$d\"' EXIT",
    ]
    # `parallel` lanes, each running its jobs one after the other: a job starts as soon
    # as its lane is free, not when the slowest of a whole wave has ended
    lanes = [list(range(k, len(jobs), parallel)) for k in range(min(parallel, len(jobs)))]
    for lane in lanes:
        lines.append("(")
        lines += _job_lines(jobs, lane, mark)
        lines.append(") &")
    lines += [
        "wait",
        f"for i in {' '.join(str(i) for i in range(len(jobs)))}; do",
        '  rc=$(cat "$d/$i.rc" 2>/dev/null || echo 255)',
        f'  echo "{mark} $i $rc $(wc -c <"$d/$i") $(wc -c <"$d/$i.e")"',
        '  cat "$d/$i" "$d/$i.e"',
        "done",
    ]
    return "\n".join(lines) + "\n"


def _job_lines(jobs: Sequence[Job], indexes: Sequence[int], mark: str) -> list[str]:
    """The lines that run the jobs of one lane in turn, each leaving its output, docker's
    stderr and its exit status in files under $d."""
    lines: list[str] = []
    for i in indexes:
        job = jobs[i]
        inner = wrapped(job.script, mark)
        container = shlex.quote(job.container)
        if too_big_for_argv(inner):
            # a file on the host (a here-document of this script, which itself comes on
            # stdin), fed to the container's shell on its stdin: no argument to outgrow
            end = f"{mark}-{i}"  # random: no line of a batch can be it
            lines += [f"cat >\"$d/{i}.sh\" <<'{end}'", inner, end]
            lines.append(f'docker exec -i {container} sh -s <"$d/{i}.sh" '
                         f'>"$d/{i}" 2>"$d/{i}.e"; echo $? >"$d/{i}.rc"')
        else:
            lines.append(f'docker exec {container} sh -c {shlex.quote(inner)} '
                         f'>"$d/{i}" 2>"$d/{i}.e" </dev/null; echo $? >"$d/{i}.rc"')
    return lines


def wrapped(script: str, mark: str) -> str:
    """A job's script as the container's shell runs it: the shell's first output (`mark`)
    proves docker started it, anything before is docker's; stderr joins stdout in the
    order written."""
    return f"echo {mark}; ( {script}\n) 2>&1"


class FramingError(ValueError):
    """The host's reply does not follow the framing (the command died, or a shell in the
    way printed something)."""


def parse(reply: bytes, mark: str, count: int) -> list[JobResult]:
    """The results of `count` jobs from the host's reply, in job order."""
    results: dict[int, JobResult] = {}
    head = mark.encode() + b" "
    # a login shell that prints something before the script runs: skip to the frames
    pos = 0 if reply.startswith(head) else reply.find(b"\n" + head) + 1
    while pos < len(reply):
        end = reply.find(b"\n", pos)
        if end < 0 or not reply.startswith(head, pos):
            raise FramingError(f"unexpected output from the host: {_preview(reply[pos:])}")
        try:
            index, rc, n_out, n_err = (int(v) for v in reply[pos + len(head):end].split())
        except ValueError:
            raise FramingError(f"bad header: {_preview(reply[pos:end])}") from None
        out = reply[end + 1:end + 1 + n_out]
        err = reply[end + 1 + n_out:end + 1 + n_out + n_err]
        pos = end + 1 + n_out + n_err
        if len(out) + len(err) != n_out + n_err:
            raise FramingError(f"the reply of job {index} is cut short")
        results[index] = result_of(out, err, rc, mark)
    missing = [i for i in range(count) if i not in results]
    if missing:
        raise FramingError(f"no reply for job(s) {', '.join(map(str, missing))}")
    return [results[i] for i in range(count)]


def result_of(out: bytes, err: bytes, rc: int, mark: str) -> JobResult:
    """A job's result from what its `wrapped` script printed (`out`) and what docker said
    (`err`)."""
    text = out.decode(errors="replace")
    first, sep, rest = text.partition("\n")
    if first == mark and sep:
        return JobResult(True, rc, rest)
    said = (err.decode(errors="replace") + text).strip()
    return JobResult(False, rc, said or f"docker exec ended with {rc} and said nothing")


def _preview(data: bytes) -> str:
    text = data[:200].decode(errors="replace")
    return repr(text) + (" ..." if len(data) > 200 else "")
