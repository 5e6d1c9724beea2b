"""Labels that mark what dnetlab owns, and the config hashes that detect drift.

Labels on the live objects are the source of truth (spec section 8): ownership is
`dnetlab.scenario`, identity is `dnetlab.key`, and drift is a hash of the normalised
desired spec. A second label lists a short hash per field, so a drift can be explained
("config drift: command, env") without keeping the old spec anywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from dnetlab import __version__

SCENARIO = "dnetlab.scenario"
KEY = "dnetlab.key"
CONFIG_HASH = "dnetlab.config-hash"
VERSION = "dnetlab.version"
FIELDS = "dnetlab.config-fields"
KIND = "dnetlab.kind"  # container, network, volume, helper
SWARM = "dnetlab.swarm"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def short_hash(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode()).hexdigest()[:8]


def config_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(fields).encode()).hexdigest()[:16]


def field_hashes(fields: Mapping[str, Any]) -> str:
    """`image=1a2b3c4d,command=...`: lets a drift name the fields that changed."""
    return ",".join(f"{k}={short_hash(v)}" for k, v in sorted(fields.items()))


def changed_fields(live: str | None, desired: str) -> list[str]:
    if not live:
        return []
    old = dict(p.split("=", 1) for p in live.split(",") if "=" in p)
    new = dict(p.split("=", 1) for p in desired.split(",") if "=" in p)
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def owned_labels(scenario: str, key: str, kind: str, fields: Mapping[str, Any]) -> dict[str, str]:
    return {
        SCENARIO: scenario,
        KEY: key,
        KIND: kind,
        CONFIG_HASH: config_hash(fields),
        FIELDS: field_hashes(fields),
        VERSION: __version__,
    }
