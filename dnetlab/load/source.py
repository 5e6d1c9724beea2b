"""Reading a scenario file: size limit, binary detection, decoding.

Limits are documented in docs/scenario-format.md; they exist so that a hostile or broken
file ends in a clear error within seconds and bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dnetlab.errors import Issue, ScenarioInvalid

MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: a 200-container lab is about 40 KiB


@dataclass(frozen=True)
class Source:
    """A scenario file as the user wrote it."""

    path: str  # as given on the command line, used in messages
    text: str


def _fail(path: str, message: str, hint: str | None = None) -> ScenarioInvalid:
    return ScenarioInvalid([Issue(path, None, None, "", message, hint)])


def read_source(path: str) -> Source:
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise _fail(path, "is a directory, not a scenario file")
        if size > MAX_FILE_BYTES:
            raise _fail(
                path,
                f"file is {size} bytes, over the limit of {MAX_FILE_BYTES} bytes",
                "split the lab, or generate repeated parts with a Jinja loop",
            )
        with p.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory, not a scenario file") from None
    return source_from_bytes(path, data)


def source_from_bytes(path: str, data: bytes) -> Source:
    if len(data) > MAX_FILE_BYTES:
        raise _fail(path, f"file is over the limit of {MAX_FILE_BYTES} bytes")
    if b"\x00" in data:
        raise _fail(path, "this is a binary file (it contains NUL bytes), not YAML text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioInvalid(
            [
                Issue(
                    path,
                    line,
                    col,
                    "",
                    f"byte 0x{data[exc.start]:02x} is not valid UTF-8",
                    "scenario files are UTF-8 text; is this a binary file?",
                )
            ]
        ) from None
    if not text.strip():
        raise _fail(path, "the file is empty", "a scenario needs at least `version: 1`, `name` "
                    "and `containers`; see `dnetlab schema`")
    return Source(path, text)
