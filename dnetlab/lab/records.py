"""What `up` deployed, kept under .dnetlab/ in the working directory (spec section 8).

The record holds the rendered scenario, so `verify`, `status` and `down` work without the
file, and `down` still finds everything after the file was edited or deleted. A lock file
per lab keeps two `up`/`down` runs of the same lab from interleaving.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from dnetlab import __version__
from dnetlab.errors import UsageError

RECORD_DIR = ".dnetlab"


@dataclass(frozen=True)
class HostRecord:
    key: str
    engine: str | None
    swarm: str | None = None
    advertise_addr: str | None = None


@dataclass(frozen=True)
class Record:
    name: str
    scenario_path: str
    rendered: str
    variables: dict[str, str]
    vars_files: tuple[str, ...]
    hosts: tuple[HostRecord, ...]
    state: str  # "applying" while up runs, then "up" or "partial"
    updated_at: float
    dnetlab_version: str = __version__


def _dir(root: Path | None = None) -> Path:
    return (root or Path.cwd()) / RECORD_DIR


def save(record: Record, root: Path | None = None) -> Path:
    d = _dir(root)
    d.mkdir(exist_ok=True)
    gitignore = d / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")  # records are machine state, not sources
    path = d / f"{record.name}.json"
    tmp = path.with_suffix(".json.tmp")
    data = asdict(record)
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)  # atomic: a record is never half written
    return path


def load(name: str, root: Path | None = None) -> Record:
    path = _dir(root) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"no lab named {name!r} is recorded in {_dir(root)}; "
                         "`dnetlab ls` lists the recorded labs") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"the record {path} cannot be read ({exc}); remove it, and use the "
                         "scenario file instead") from None
    return Record(
        name=data["name"], scenario_path=data["scenario_path"], rendered=data["rendered"],
        variables=dict(data.get("variables", {})), vars_files=tuple(data.get("vars_files", ())),
        hosts=tuple(HostRecord(h["key"], h.get("engine"), h.get("swarm"), h.get("advertise_addr"))
                    for h in data.get("hosts", ())),
        state=data.get("state", "up"), updated_at=float(data.get("updated_at", 0)),
        dnetlab_version=data.get("dnetlab_version", ""),
    )


def names(root: Path | None = None) -> list[str]:
    d = _dir(root)
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.json"))


def pick(name: str | None, root: Path | None = None) -> Record:
    """The lab meant when no file is given: the one recorded here, or `-n NAME`."""
    if name:
        return load(name, root)
    found = names(root)
    if not found:
        raise UsageError("no lab is recorded in .dnetlab/ here: give the scenario file, or "
                         "run this where `dnetlab up` ran")
    if len(found) > 1:
        raise UsageError(f"several labs are recorded here ({', '.join(found)}): pick one "
                         "with -n NAME")
    return load(found[0], root)


def already_validated(rendered: str, root: Path | None = None) -> bool:
    """True when a record holds exactly this rendered text, written by this version: it
    passed validation then, so it would pass now."""
    for n in names(root):
        try:
            rec = load(n, root)
        except UsageError:
            continue
        if rec.rendered == rendered and rec.dnetlab_version == __version__:
            return True
    return False


def forget(name: str, root: Path | None = None) -> None:
    for suffix in (".json", ".lock"):
        (_dir(root) / f"{name}{suffix}").unlink(missing_ok=True)


def _holder(fh: IO[str]) -> str:
    # The holder writes itself just after taking the lock: give it that instant.
    for _ in range(20):
        fh.seek(0)
        text = fh.read().strip()
        if text:
            return text
        time.sleep(0.05)
    return "another process"


@contextmanager
def locked(name: str, root: Path | None = None, wait_s: float = 600.0,
           stop: threading.Event | None = None) -> Iterator[None]:
    """Hold the lab's lock; a second run waits for the first (saying so), then goes on.
    A stop asked for while waiting ends the wait at once: nothing was started yet."""
    d = _dir(root)
    d.mkdir(exist_ok=True)
    with (d / f"{name}.lock").open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fh)
            print(f"lab {name} is being changed by {holder}; waiting for it to finish",
                  file=sys.stderr, flush=True)
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if stop is not None and stop.is_set():
                        raise KeyboardInterrupt from None
                    if time.monotonic() > deadline:
                        raise UsageError(f"lab {name} stayed locked by {holder} for "
                                         f"{wait_s:.0f} s; is that run stuck?") from None
                    time.sleep(0.1)
        fh.seek(0)
        fh.truncate()
        fh.write(f"dnetlab pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
