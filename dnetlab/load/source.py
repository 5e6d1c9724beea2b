"""Reading a scenario file: size limit, binary detection, decoding.

Limits are documented in docs/scenario-format.md; they exist so that a hostile or broken
file ends in a clear error within seconds and bounded memory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

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
    """Read a scenario or vars file. Only a regular file is read: a FIFO or a device would
    block or never end (`/dev/zero`), and opening does not wait for a FIFO's writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except PermissionError:
        raise _fail(path, "permission denied") from None
    except IsADirectoryError:
        raise _fail(path, "is a directory, not a scenario file") from None
    except OSError as exc:
        raise _fail(path, f"cannot be opened: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        # checked on the descriptor before any read (and before fdopen, which refuses a
        # directory with an exception of its own)
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _fail(path, "is a directory, not a scenario file")
        raise _fail(path, "is not a regular file (a pipe, socket or device)",
                    "give the path of a scenario file; to use generated text, write it "
                    "to a file first")
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > MAX_FILE_BYTES:
            raise _fail(path, f"file is {info.st_size} bytes, over the limit of "
                        f"{MAX_FILE_BYTES} bytes",
                        "split the lab, or generate repeated parts with a Jinja loop")
        try:
            data = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _fail(path, f"cannot be read: {exc.strerror}") from None
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
