"""`file`: a file in the container `on`, read with `cat`: readable, containing `contains`,
matching `matches`, without `absent_text`. It reads the container itself, so it never
moves to a helper container."""

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
from dnetlab.probes.fields import check_regex, strings
from dnetlab.probes.output import last_line
from dnetlab.probes.wording import combine, plural, text_parts


@dataclass(frozen=True)
class FileProbe(ProbeBase):
    on: str
    path: str
    contains: tuple[str, ...] = ()
    matches: str | None = None
    absent_text: tuple[str, ...] = ()
    type: Literal["file"] = "file"


def build(f: Fields) -> FileProbe:
    v = f.raw
    on = v["on"]
    check_regex(v.get("matches"), (*f.path, "matches"), f.out)
    return FileProbe(**f.common, on=on, path=v["path"], contains=strings(v.get("contains")),
                     matches=v.get("matches"), absent_text=strings(v.get("absent_text")))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"file {v.get('on')}:{v.get('path')}"


def check_refs(p: FileProbe, refs: References, path: Path) -> None:
    refs.on_ref(p.on, (*path, "on"))


def command(r: Resolved[FileProbe]) -> Command:
    return Command(f"cat {quote(r.probe.path)}", ("cat",), needs_target=True)


def check(r: Resolved[FileProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    parts = text_parts(output, p.contains, p.matches, p.absent_text, "file")
    if exit_code != 0:
        expected = "; ".join(x.expected for x in parts) or f"{p.path} readable"
        return Verdict(False, expected,
                       f"cannot read {p.path}: {last_line(output) or f'exit {exit_code}'}")
    count = len(output.splitlines())
    return combine(parts, f"{p.path} readable", f"{p.path}: {plural(count, 'line')}")


FILE = ProbeKind(
    type_name="file", probe=FileProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.on, command=command, check=check)
