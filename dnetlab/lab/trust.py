"""Approvals of what shared scenario files ask for (spec 10.4), kept per user.

`dnetlab trust FILE` records, for the file's absolute path, the hash of its asks (see
`dnetlab.load.asks`) and the environment variables its templates may read. `up` and
`verify` refuse a file whose asks have no approval with the same hash: a file that starts
asking for something new needs a new approval, as direnv asks again for a changed
`.envrc`. The store is `$XDG_CONFIG_HOME/dnetlab/trust.json`, private to the user: a
repository cannot ship approvals along with the file.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dnetlab.errors import UsageError
from dnetlab.lab.userconfig import config_dir, open_nofollow, private_dir, write_private
from dnetlab.load.asks import Ask, asks_hash

_STORE = "trust.json"
_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Approval:
    path: str
    asks_hash: str
    asks: tuple[str, ...]
    allow_env: tuple[str, ...]
    approved_at: float


class Untrusted(UsageError):
    """The file asks for what the user has not approved (exit 2: nothing was changed)."""


def file_key(path: str) -> str:
    """Approvals are per file: its absolute, resolved path."""
    return str(Path(path).resolve())


def _store_path() -> Path:
    return config_dir() / _STORE


def _load() -> dict[str, Approval]:
    path = _store_path()
    try:
        fd = open_nofollow(path, os.O_RDONLY)
    except FileNotFoundError:
        return {}
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise UsageError(f"{path} is not a regular file; remove it "
                             f"(`rm {shlex.quote(str(path))}`)")
        data = fh.read(_MAX_BYTES + 1)
    try:
        raw: Any = json.loads(data)
        return {k: Approval(v["path"], v["asks_hash"], tuple(v["asks"]),
                            tuple(v.get("allow_env", ())), float(v["approved_at"]))
                for k, v in raw["approvals"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"the trust store {path} is damaged ({type(exc).__name__}); remove "
                         f"it (`rm {shlex.quote(str(path))}`) and approve your files again "
                         "with `dnetlab trust FILE`") from None


def approval(path: str) -> Approval | None:
    return _load().get(file_key(path))


def approve(path: str, found: tuple[Ask, ...], allow_env: tuple[str, ...] = ()) -> Approval:
    store = _load()
    key = file_key(path)
    kept_env = store[key].allow_env if key in store else ()
    new = Approval(key, asks_hash(found), tuple(sorted({a.key() for a in found})),
                   tuple(sorted(set(kept_env) | set(allow_env))), time.time())
    store[key] = new
    private_dir(config_dir())
    write_private(_store_path(), json.dumps(
        {"approvals": {k: asdict(v) for k, v in sorted(store.items())}}, indent=2) + "\n")
    return new


def allowed_env(path: str) -> frozenset[str]:
    """Variables the user let this file's templates read (`dnetlab trust --allow-env`)."""
    found = approval(path)
    return frozenset(found.allow_env) if found else frozenset()


def is_approved(path: str, found: tuple[Ask, ...]) -> bool:
    if not found:
        return True
    granted = approval(path)
    return granted is not None and granted.asks_hash == asks_hash(found)


def require(path: str, found: tuple[Ask, ...], issues: tuple[Any, ...] = (), *,
            once: bool = False, command: str = "up") -> None:
    """Raise Untrusted, listing every ask, unless the file's asks are approved (or `once`,
    the --trust of a CI run)."""
    if once or is_approved(path, found):
        return
    granted = approval(path)
    why = ("its asks changed since you approved it" if granted else
           "you have not approved what it asks for")
    lines = [i.format() for i in issues] or [f"{path}: asks: {a.what}" for a in found]
    raise Untrusted(f"{command} refused: {path} is a shared file and {why}:\n  "
                    + "\n  ".join(lines)
                    + f"\nread them, then approve with `dnetlab trust {shlex.quote(path)}` "
                      "(or pass --trust to approve for this run only)")
