"""`exec`: a command run in the container `on` exits with `exit_code`, its output
containing `stdout_contains` and matching `stdout_matches` (stdout and stderr together).
It runs in the container itself, so it never moves to a helper container."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from shlex import quote
from typing import Any, Literal

from dnetlab.probes.base import (
    Command,
    Fields,
    Path,
    ProbeBase,
    ProbeKind,
    References,
    Resolved,
    Verdict,
)
from dnetlab.probes.fields import argv, check_regex
from dnetlab.probes.output import last_line
from dnetlab.probes.wording import Part, combine, text_parts


@dataclass(frozen=True)
class ExecProbe(ProbeBase):
    on: str
    command: tuple[str, ...]
    exit_code: int = 0
    stdout_contains: str | None = None
    stdout_matches: str | None = None
    type: Literal["exec"] = "exec"


def build(f: Fields) -> ExecProbe:
    v, p = f.raw, f.path
    on = v["on"]
    check_regex(v.get("stdout_matches"), (*p, "stdout_matches"), f.out)
    return ExecProbe(**f.common, on=on,
                     command=argv(v["command"], (*p, "command"), f.out) or (),
                     exit_code=v.get("exit_code", 0),
                     stdout_contains=v.get("stdout_contains"),
                     stdout_matches=v.get("stdout_matches"))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    cmd = v.get("command")
    text = cmd if isinstance(cmd, str) else " ".join(map(str, cmd or []))
    return f"exec {v.get('on')}: {text}"


def check_refs(p: ExecProbe, refs: References, path: Path) -> None:
    refs.on_ref(p.on, (*path, "on"))


def command(r: Resolved[ExecProbe]) -> Command:
    return Command(" ".join(quote(a) for a in r.probe.command), (), needs_target=True)


def check(r: Resolved[ExecProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    parts = [Part(f"exit {p.exit_code}",
                  f"exit {exit_code}" + (f" ({last_line(output)})"
                                         if exit_code != p.exit_code and last_line(output)
                                         else ""),
                  exit_code == p.exit_code)]
    parts += text_parts(output, (p.stdout_contains,) if p.stdout_contains is not None else (),
                        p.stdout_matches, (), "output")
    return combine(parts, f"exit {p.exit_code}", f"exit {exit_code}")


EXEC = ProbeKind(
    type_name="exec", probe=ExecProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.on, command=command, check=check)
