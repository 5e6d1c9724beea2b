"""Which copy of a lab is this working directory's (spec section 10.5).

A lab's first `up` in a working directory makes a random instance id; its record keeps it
and every object the lab makes carries it, so two copies of one file on a shared engine
(two directories, two teammates) never change or remove each other's objects. `down`
forgets the record but keeps the id, so the next `up` here owns again what `down` left
(volumes, unless `--volumes`).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from dnetlab.lab import records
from dnetlab.labels import Owner


def new_instance() -> str:
    # 48 random bits: two copies of a lab on one engine never draw the same id
    return secrets.token_hex(6)


def recorded(name: str, root: Path | None = None) -> str | None:
    """The instance of the lab recorded here ("" for an older dnetlab's record), or None
    when no record of it is here."""
    if name not in records.names(root):
        return None
    return records.load(name, root).instance


def for_up(name: str, root: Path | None = None) -> str:
    """The instance `up` acts as: the record's, else the one this directory had before
    its last `down`, else a new one."""
    found = recorded(name, root)
    if found is not None:
        return found
    return records.kept_instance(name, root) or new_instance()


def owner_here(name: str, root: Path | None = None) -> Owner:
    """The recorded instance of the lab; any instance when no record of it is here."""
    return Owner(name, recorded(name, root))
