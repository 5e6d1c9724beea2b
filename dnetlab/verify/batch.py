"""Many probes of one source in one exec: a sh script that runs them side by side and
prints each one's output between markers. Pure: script text in, parsed outputs out.

An exec is the costly part of a probe (the engine starts a process in the container;
over SSH more: see `hostexec`), so a verify run pays one exec per source container, not
one per probe.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from dnetlab.probes.base import Command


@dataclass(frozen=True)
class BatchOutput:
    exit_code: int
    output: str


@dataclass(frozen=True)
class Parsed:
    results: dict[int, BatchOutput]  # probe index -> its exit code and output
    skipped: dict[int, tuple[str, ...]]  # probe index -> the tools it lacked here


def new_token() -> str:
    return "@@dnl-" + secrets.token_hex(4)


def script(commands: Sequence[Command], token: str) -> str:
    """A script running every command concurrently, each only where its tools exist;
    the commands that must run one at a time run in one chain, beside the others."""
    lines = [
        f"T='{token}'",
        'd=$(mktemp -d 2>/dev/null) || { d="/tmp/.dnl-$$"; mkdir -p "$d"; }',
        "have() { for t in \"$@\"; do command -v \"$t\" >/dev/null 2>&1 || return 1; done; }",
    ]
    serial: list[str] = []  # the one-at-a-time commands: one chain, beside the others
    for i, cmd in enumerate(commands):
        run = f'( {cmd.script}\n) >"$d/{i}" 2>&1 </dev/null; echo $? >"$d/{i}.rc"'
        if cmd.tools:
            tools = " ".join(cmd.tools)
            step = f'if have {tools}; then {{ {run}; }}; else echo "$T skip {i} {tools}"; fi'
        else:
            step = f"{{ {run}; }}"
        if cmd.one_at_a_time:
            serial.append(step)
        elif cmd.tools:
            lines.append(f'if have {tools}; then {{ {run}; }} & '
                         f'else echo "$T skip {i} {tools}"; fi')
        else:
            lines.append(f"{{ {run}; }} &")
    if serial:
        lines.append("{\n" + "\n".join(serial) + "\n} &")
    lines += [
        "wait",
        f"for i in {' '.join(str(i) for i in range(len(commands)))}; do",
        '  [ -f "$d/$i.rc" ] || continue',
        '  echo "$T begin $i $(cat "$d/$i.rc")"; cat "$d/$i"; echo; echo "$T end $i"',
        "done",
        'rm -rf "$d"',
    ]
    return "\n".join(lines) + "\n"


def parse(output: str, token: str) -> Parsed:
    results: dict[int, BatchOutput] = {}
    skipped: dict[int, tuple[str, ...]] = {}
    begin = re.compile(rf"^{re.escape(token)} begin (\d+) (\d+)$")
    skip = re.compile(rf"^{re.escape(token)} skip (\d+) (.*)$")
    current: int | None = None
    code = 0
    body: list[str] = []
    for line in output.split("\n"):
        if current is not None:
            if line == f"{token} end {current}":
                text = "\n".join(body)
                results[current] = BatchOutput(code, text[:-1] if text.endswith("\n") else text)
                current, body = None, []
            else:
                body.append(line)
            continue
        m = begin.match(line)
        if m:
            current, code = int(m.group(1)), int(m.group(2))
            continue
        m = skip.match(line)
        if m:
            skipped[int(m.group(1))] = tuple(m.group(2).split())
    return Parsed(results, skipped)
