"""`http`: a URL fetched from `from` answers with `status`, its body containing `contains`.

`timeout 5 wget -S` (Debian's busybox `wget -T` crashes); the status is the last HTTP
status line seen (after redirects). wget keeps no body on an error status, so `contains`
can pass only with a 2xx/3xx status.
"""

from __future__ import annotations

import re
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
from dnetlab.probes.output import SECTION, last_words, lines
from dnetlab.probes.wording import quoted


@dataclass(frozen=True)
class HttpProbe(ProbeBase):
    source: str
    url: str
    status: int = 200
    contains: str | None = None
    type: Literal["http"] = "http"


def build(f: Fields) -> HttpProbe:
    v = f.raw
    return HttpProbe(**f.common, source=f.source, url=v["url"], status=v.get("status", 200),
                     contains=v.get("contains"))


def name(v: Mapping[str, Any], source: str | None, to: str | None) -> str:
    return f"http {source}: {v.get('url')}"


def check_refs(p: HttpProbe, refs: References, path: Path) -> None:
    refs.container_ref(p.source, path, "from")


def command(r: Resolved[HttpProbe]) -> Command:
    # headers (-S) go to stderr and the body to a file, printed after a marker; the
    # deadline is timeout(1): Debian's busybox wget crashes on its own -T
    return Command(
        f'b=$(mktemp 2>/dev/null || echo /tmp/.dnetlab-body.$$); '
        f"timeout 5 wget -S -O \"$b\" {quote(r.probe.url)} 2>&1; rc=$?; echo {SECTION}; "
        f'cat "$b" 2>/dev/null; rm -f "$b"; exit $rc',
        ("wget", "timeout"))


# ---- its output ------------------------------------------------------------------------------

@dataclass(frozen=True)
class HttpResponse:
    status: int | None  # the last HTTP status line seen (after redirects); None: no response
    body: str
    error: str | None  # what wget said when it failed: "Connection refused", "bad address"


# a status line of -S ("  HTTP/1.1 200 OK"), or busybox's "server returned error: HTTP/..."
_HTTP_STATUS = re.compile(r"^(?:\s*|wget: server returned error: )HTTP/\d(?:\.\d)?\s+(\d{3})\b")
_WGET_ERROR = re.compile(r"^(?:wget: |.*\bfailed: |.*\bERROR \d+: |Segmentation fault)")


def parse_wget(text: str) -> HttpResponse:
    """wget -S writes the response headers ("  HTTP/1.1 200 OK") and its errors
    ("wget: server returned error: HTTP/1.1 404 Not Found") to stderr, printed before the
    section marker; the body follows the marker."""
    all_lines = lines(text)
    try:
        cut = all_lines.index(SECTION)
    except ValueError:
        head, body = all_lines, []
    else:
        head, body = all_lines[:cut], all_lines[cut + 1:]
    status: int | None = None
    errors: list[str] = []
    for line in head:
        m = _HTTP_STATUS.match(line)
        if m:
            status = int(m.group(1))
        if _WGET_ERROR.match(line.strip()):
            errors.append(line.strip())
    error = errors[-1] if errors else None
    if error is None and status is None:
        error = last_words("\n".join(head)) or "no output"
    return HttpResponse(status, "\n".join(body), _short_wget_error(error))


def _short_wget_error(error: str | None) -> str | None:
    if error is None:
        return None
    if error.startswith("wget: "):
        error = error[len("wget: "):]
    m = re.search(r"\bfailed: (.+?)\.?$", error)  # GNU: "Connecting to x... failed: ..."
    return m.group(1) if m else error


# exit codes of a command killed on a deadline: `timeout` (124), SIGTERM (143), SIGKILL (137)
_KILLED = (124, 137, 143)


def check(r: Resolved[HttpProbe], exit_code: int, output: str) -> Verdict:
    p = r.probe
    res = parse_wget(output)
    expected = f"status {p.status}"
    if p.contains is not None:
        expected += f", body contains {quoted(p.contains)}"
    if res.status is None:
        if exit_code in _KILLED:
            return Verdict(False, expected, f"no response: timed out (exit {exit_code})")
        return Verdict(False, expected, f"no response: {res.error}")
    actual = f"status {res.status}"
    has = True
    if p.contains is not None:
        has = p.contains in res.body
        actual += f", body {'contains' if has else 'without'} {quoted(p.contains)}"
    return Verdict(res.status == p.status and has, expected, actual)


HTTP = ProbeKind(
    type_name="http", probe=HttpProbe, build=build, name=name, check_refs=check_refs,
    runs_on=lambda p: p.source, command=command, check=check)
