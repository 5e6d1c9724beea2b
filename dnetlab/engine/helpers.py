"""dnetlab's short-lived helper containers (a probe's tools, a capture's tcpdump): each is
named before it is made, so that one whose creation was cut short (Ctrl-C after the
engine made it, before its answer came back with the ID) can still be found and
removed."""

from __future__ import annotations

import secrets
from contextlib import suppress
from typing import Any


def helper_name(kind: str) -> str:
    return f"dnetlab-{kind}-{secrets.token_hex(6)}"


def remove_helper(api: Any, container_id: str | None, name: str) -> None:
    """Remove the helper, running or not, by its ID, or by its name when its creation
    did not return one; nothing to remove (never made) and a failed removal are quiet:
    this runs on the way out of an error or an interrupt."""
    with suppress(Exception):
        api.remove_container(container_id or name, force=True)
