"""What `up` deployed, kept under .dnetlab/ in the working directory (spec section 8).

The record holds the rendered scenario, so `verify`, `status` and `down` work without the
file, and `down` still finds everything after the file was edited or deleted. A lock file
per lab keeps two `up`/`down` runs of the same lab from interleaving.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dnetlab import __version__
from dnetlab.errors import UsageError
from dnetlab.lab.userconfig import open_nofollow, private_dir, seal, sealed_by_me, write_private

if TYPE_CHECKING:
    from dnetlab.verify.outcome import Report

_MISSING: Any = object()
_KIND_NAMES: dict[Any, str] = {str: "text", dict: "a mapping", list: "a list",
                               (int, float): "a number"}

RECORD_DIR = ".dnetlab"
# A lab's name is the only part of a record's path that varies: the spec's pattern keeps
# it a plain file name (no "/", no "..", nothing hidden).
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")
# A lab's instance (spec 10.5) goes into labels and messages: short lowercase hex, or ""
# for a record written before instances existed
_INSTANCE = re.compile(r"[0-9a-f]{0,32}")
_MAX_BYTES = 16 * 1024 * 1024  # a record holds the rendered text (at most 4 MiB) and vars


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
    # the MAC of (version, rendered) under the user's key: set when this user's dnetlab
    # validated the text; a record from anywhere else is validated again in full
    validated: str = ""
    # which copy of the lab this directory's is (spec 10.5): every object it makes carries
    # it; "" in a record of an older dnetlab, whose objects carry no instance label
    instance: str = ""


def _seal_text(version: str, rendered: str) -> str:
    return f"{version}\0{rendered}"


def sealed(record: Record) -> Record:
    """`record` vouched for by this user: its rendered text passed validation here."""
    return replace(record, validated=seal(_seal_text(record.dnetlab_version, record.rendered)))


def vouched(record: Record) -> bool:
    """True when this user's dnetlab of this version wrote the record after validating its
    text: only then may the schema check be skipped."""
    return record.dnetlab_version == __version__ and sealed_by_me(
        _seal_text(record.dnetlab_version, record.rendered), record.validated)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise UsageError(f"{shown!r} is not a lab name (lowercase letters, digits and '-', "
                         "at most 31, as a scenario's `name`)")
    return name


def _dir(root: Path | None = None, *, create: bool = False) -> Path:
    d = (root or Path.cwd()) / RECORD_DIR
    if create:
        return private_dir(d)
    if d.is_symlink():
        raise UsageError(f"{d} is a symlink; dnetlab keeps its records in a real directory "
                         f"there and never follows a link: remove it (rm {d})")
    return d


def _damaged(path: Path, why: str) -> UsageError:
    return UsageError(f"the record {path} is damaged ({why}); remove it (rm {path}) and run "
                      "`dnetlab down FILE` with the scenario file to remove what that lab "
                      "left")


def save(record: Record, root: Path | None = None) -> Path:
    d = _dir(root, create=True)
    gitignore = d / ".gitignore"
    if not gitignore.exists() and not gitignore.is_symlink():
        write_private(gitignore, "*\n")  # records are machine state, not sources
    path = d / f"{check_name(record.name)}.json"
    write_private(path, json.dumps(asdict(record), indent=2) + "\n")
    return path


def _read(path: Path) -> str:
    try:
        fd = open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _damaged(path, exc.strerror or str(exc)) from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _damaged(path, "not a regular file")
        data = fh.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise _damaged(path, f"larger than {_MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _damaged(path, "not UTF-8") from None


def _field(data: dict[str, Any], key: str, kinds: type | tuple[type, ...],
           path: Path, default: Any = _MISSING) -> Any:
    if key not in data:
        if default is _MISSING:
            raise _damaged(path, f"no {key!r}")
        return default
    value = data[key]
    if not isinstance(value, kinds) or isinstance(value, bool):  # JSON's true is no number
        raise _damaged(path, f"{key!r} is not {_KIND_NAMES.get(kinds, 'valid')}")
    return value


def _hosts(raw: Any, path: Path) -> tuple[HostRecord, ...]:
    if not isinstance(raw, list):
        raise _damaged(path, "'hosts' is not a list")
    hosts = []
    for h in raw:
        if not isinstance(h, dict) or not isinstance(h.get("key"), str):
            raise _damaged(path, "a host without a 'key'")
        values = [h.get(k) for k in ("engine", "swarm", "advertise_addr")]
        if not all(v is None or isinstance(v, str) for v in values):
            raise _damaged(path, f"host {h['key']!r} has a field that is not text")
        hosts.append(HostRecord(h["key"], *values))
    return tuple(hosts)


def load(name: str, root: Path | None = None) -> Record:
    path = _dir(root) / f"{check_name(name)}.json"
    try:
        text = _read(path)
    except FileNotFoundError:
        raise UsageError(f"no lab named {name!r} is recorded in {_dir(root)}; "
                         "`dnetlab ls` lists the recorded labs") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _damaged(path, f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _damaged(path, "not a JSON object")
    if _field(data, "name", str, path) != name:
        raise _damaged(path, f"it names another lab, {str(data['name'])[:40]!r}")
    variables = _field(data, "variables", dict, path, {})
    vars_files = _field(data, "vars_files", list, path, [])
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in variables.items()):
        raise _damaged(path, "'variables' holds something other than text")
    if not all(isinstance(f, str) for f in vars_files):
        raise _damaged(path, "'vars_files' holds something other than text")
    return Record(
        name=name, scenario_path=_field(data, "scenario_path", str, path),
        rendered=_field(data, "rendered", str, path), variables=dict(variables),
        vars_files=tuple(vars_files), hosts=_hosts(data.get("hosts", []), path),
        state=_field(data, "state", str, path, "up"),
        updated_at=float(_field(data, "updated_at", (int, float), path, 0)),
        dnetlab_version=_field(data, "dnetlab_version", str, path, ""),
        validated=_field(data, "validated", str, path, ""),
        instance=_instance(_field(data, "instance", str, path, ""), path),
    )


def _instance(value: str, path: Path) -> str:
    if not _INSTANCE.fullmatch(value):
        raise _damaged(path, f"'instance' {value[:40]!r} is not a short hexadecimal id")
    return value


def names(root: Path | None = None) -> list[str]:
    """The labs recorded here; files whose name is no lab name are not records of ours."""
    d = _dir(root)
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.json") if _NAME.fullmatch(p.stem))


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
    """True when a record that this user's dnetlab wrote (see `vouched`) holds exactly
    this rendered text: it passed validation then, so it would pass now."""
    for n in names(root):
        try:
            rec = load(n, root)
        except UsageError:
            continue
        if rec.rendered == rendered and vouched(rec):
            return True
    return False


def forget(name: str, root: Path | None = None) -> None:
    # the record, its lock, verify's last report, the inventory lab/inventory.py writes
    for suffix in (".json", ".lock", _REPORT_SUFFIX, ".inventory.yaml"):
        # unlink removes a link itself, never what it points at
        (_dir(root) / f"{check_name(name)}{suffix}").unlink(missing_ok=True)


# The last verify's JSON report sits beside the record (`graph` draws its failed probes).
# The dot keeps `names()` from taking it for a lab: a lab's name has none.
_REPORT_SUFFIX = ".verify.json"


def save_report(name: str, report_json: str, root: Path | None = None) -> Path | None:
    """Keep the JSON report of a verify of lab `name`, private like the record, when the
    lab is recorded here (a report of a lab brought up elsewhere has no record to sit
    beside); the path written, or None."""
    if not _NAME.fullmatch(name) or name not in names(root):
        return None
    path = _dir(root, create=True) / f"{name}{_REPORT_SUFFIX}"
    write_private(path, report_json if report_json.endswith("\n") else report_json + "\n")
    return path


def load_report(name: str, root: Path | None = None) -> Any:
    """The last verify report of lab `name` saved here, as parsed JSON, or None when
    there is none. A damaged one is an error: `rm` it, and the next verify writes anew."""
    path = _dir(root) / f"{check_name(name)}{_REPORT_SUFFIX}"
    try:
        text = _read(path)
        return json.loads(text)
    except FileNotFoundError:
        return None
    except (ValueError, UsageError) as exc:
        why = exc.message if isinstance(exc, UsageError) else f"not JSON: {exc}"
        raise UsageError(f"the saved verify report {path} is unreadable ({why}); remove it "
                         f"(rm {path}): the next `dnetlab verify` saves a new one") from None


def remember_report(report: Report) -> Path | None:
    """`save_report` of a verify's report, in verify's JSON shape (spec section 9)."""
    from dnetlab.verify.export import json_text

    return save_report(report.scenario, json_text(report))


def keep_instance(name: str, instance: str, root: Path | None = None) -> None:
    """Remember this directory's instance of the lab once its record is gone (`down`
    keeps volumes unless told otherwise: the next `up` here must own them again)."""
    if instance:
        write_private(_dir(root, create=True) / f"{check_name(name)}.instance",
                      instance + "\n")


def kept_instance(name: str, root: Path | None = None) -> str:
    """The instance `keep_instance` remembered here, or ""."""
    path = _dir(root) / f"{check_name(name)}.instance"
    try:
        value = _read(path).strip()
    except FileNotFoundError:
        return ""
    if not value or not _INSTANCE.fullmatch(value):
        raise UsageError(f"{path} is damaged (not a short hexadecimal id); remove it (rm "
                         f"{path}): the next `dnetlab up` here makes a new instance")
    return value


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
    d = _dir(root, create=True)
    fd = open_nofollow(d / f"{check_name(name)}.lock", os.O_RDWR | os.O_CREAT)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
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
