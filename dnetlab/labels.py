"""Labels that mark what dnetlab owns, and the config hashes that detect drift.

Labels on the live objects are the source of truth (spec section 8): ownership is
`dnetlab.scenario` plus `dnetlab.instance` (one copy of the lab, spec section 10.5),
identity is `dnetlab.key`, and drift is a hash of the normalised desired spec. A second
label lists a short hash per field, so a drift can be explained ("config drift: command,
env") without keeping the old spec anywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dnetlab import __version__

SCENARIO = "dnetlab.scenario"
INSTANCE = "dnetlab.instance"  # absent on objects of labs brought up before instances
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


def instance_of(labels: Mapping[str, str]) -> str:
    """The instance an object belongs to; "" for one made before instances existed."""
    return labels.get(INSTANCE, "")


@dataclass(frozen=True)
class Owner:
    """Who owns an object: a lab's name and one instance of it, a random id made by the
    lab's first `up` in a working directory (spec section 10.5). Two copies of one file on
    a shared engine have the same name but not the same instance, so neither ever changes
    or removes the other's objects.

    `instance` "" is a lab recorded by a dnetlab older than instances: it owns the objects
    that carry no instance label, so such a lab still goes down cleanly. None is any
    instance: only for acting on a lab that has no record here (`down FILE` after asking,
    `status` and `verify` of a file).
    """

    scenario: str
    instance: str | None

    @property
    def any_instance(self) -> bool:
        return self.instance is None

    def owns(self, labels: Mapping[str, str]) -> bool:
        return labels.get(SCENARIO) == self.scenario and (
            self.instance is None or instance_of(labels) == self.instance)

    def other_instance(self, labels: Mapping[str, str]) -> bool:
        """Labelled with this lab's name but of another instance: never ours to touch."""
        return labels.get(SCENARIO) == self.scenario and not self.owns(labels)

    def labels(self) -> dict[str, str]:
        """The ownership labels of what this owner creates (an old lab's "" adds none, so
        its objects stay as the dnetlab that made the lab labelled them)."""
        own = {SCENARIO: self.scenario}
        if self.instance:
            own[INSTANCE] = self.instance
        return own


def describe_instance(instance: str) -> str:
    return (f"instance {instance}" if instance
            else "no instance label (made by a dnetlab older than instances, or by hand)")


def owned_labels(owner: Owner, key: str, kind: str, fields: Mapping[str, Any]) -> dict[str, str]:
    # the instance is not hashed: it says whose the object is, not what it should be
    return {
        **owner.labels(),
        KEY: key,
        KIND: kind,
        CONFIG_HASH: config_hash(fields),
        FIELDS: field_hashes(fields),
        VERSION: __version__,
    }
