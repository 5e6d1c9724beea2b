"""Open engine connections for the hosts of a lab, observed in parallel."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dnetlab.engine.connect import preparing
from dnetlab.engine.engine import Engine
from dnetlab.engine.errors import EngineError
from dnetlab.engine.impair import TOOLS_IMAGE
from dnetlab.errors import DnetlabError, EnvironmentFailure, UsageError
from dnetlab.model import Host, Scenario
from dnetlab.reconcile.desired import HostDesired
from dnetlab.reconcile.observed import HostObserved

T = TypeVar("T")
DEFAULT_WORKERS = 8  # measured: 4-16 threads give the same speed on 2 cores


def _parallel(items: Iterable[T], fn: Callable[[T], Any], workers: int = 8) -> list[Any]:
    seq = list(items)
    if len(seq) <= 1:
        return [fn(x) for x in seq]
    with ThreadPoolExecutor(max_workers=min(workers, len(seq))) as pool:
        return list(pool.map(fn, seq))


@dataclass
class Session:
    """Open engine connections for a set of hosts; close() when done."""

    engines: dict[str, Engine] = field(default_factory=dict)

    @classmethod
    def open(cls, hosts: Iterable[Host], prepare: str | None = None) -> Session:
        """`prepare`: a command each ssh:// host's connection starts on a session of its
        own as soon as it is up (`connect.preparing`)."""
        errors: list[str] = []
        engines: dict[str, Engine] = {}

        def one(h: Host) -> None:
            try:
                with preparing(prepare) if prepare else nullcontext():
                    engines[h.key] = Engine.open(h)
            except DnetlabError as exc:
                errors.append(exc.message)

        _parallel(hosts, one)
        if errors:
            for e in engines.values():
                e.close()
            raise EnvironmentFailure("; ".join(sorted(errors)))
        return cls(engines)

    def observe(self, desired: Mapping[str, HostDesired] | None = None,
                swarm: bool = False) -> dict[str, HostObserved]:
        def one(key: str) -> tuple[str, HostObserved]:
            d = desired.get(key) if desired else None
            images = d.images if d else ()
            if d and (d.impaired or d.impair_read):
                images = (*images, TOOLS_IMAGE)  # impairments are set and read with it
            try:
                return key, self.engines[key].observe(images, swarm=swarm)
            except EngineError as exc:
                raise EnvironmentFailure(exc.message) from exc

        return dict(_parallel(self.engines, one))

    def each(self, keys: Iterable[str], fn: Callable[[Engine], Any]) -> list[Any]:
        """`fn` on the engines of `keys`, side by side."""
        return _parallel(keys, lambda key: fn(self.engines[key]))

    def close(self) -> None:
        for e in self.engines.values():
            e.close()


def uses_swarm(hosts: Iterable[Host]) -> bool:
    return any(h.swarm for h in hosts)


def find_container(sc: Scenario, key: str) -> tuple[Host, str]:
    for c in sc.containers:
        if key in (c.key, c.name):
            return sc.host(c.host), c.name
    known = ", ".join(c.key for c in sc.containers)
    raise UsageError(f"no container {key!r} in lab {sc.name} (containers: {known})")
