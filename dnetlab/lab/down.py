"""`down`: remove everything labelled as the lab's on every host it may live on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dnetlab.lab import records
from dnetlab.lab.apply import ApplyOptions, ApplyResult, apply
from dnetlab.lab.progress import PlainReporter, Reporter
from dnetlab.lab.session import DEFAULT_WORKERS, Session, uses_swarm
from dnetlab.model import Host, Scenario
from dnetlab.reconcile.plan import Plan, teardown


@dataclass(frozen=True)
class DownResult:
    plan: Plan
    applied: ApplyResult | None
    seconds: float


def down(name: str, hosts: Iterable[Host], reporter: Reporter | None = None, *,
         workers: int = DEFAULT_WORKERS, graceful: bool = False, volumes: bool = False,
         stop: threading.Event | None = None, record_root: Path | None = None) -> DownResult:
    """Remove everything labelled as this lab's on every host; nothing else."""
    started = time.monotonic()
    reporter = reporter or PlainReporter(quiet=True)
    hosts = tuple(hosts)
    with records.locked(name, record_root, stop=stop):
        session = Session.open(hosts)
        try:
            observed = session.observe(swarm=uses_swarm(hosts))
            plan = teardown(name, observed.values(), volumes=volumes, hosts=hosts)
            result = None
            if not plan.empty:
                result = apply(plan, session.engines, reporter,
                               options=ApplyOptions(workers, graceful=graceful, volumes=volumes),
                               stop=stop, title=f"taking down lab {name}")
            if result is None or result.ok:
                records.forget(name, record_root)
            return DownResult(plan, result, time.monotonic() - started)
        finally:
            session.close()


def hosts_for(name: str, sc: Scenario | None, record_root: Path | None = None) -> list[Host]:
    """Every host the lab may live on: the file's and the record's (it may differ after an
    edit)."""
    found: dict[str, Host] = {h.key: h for h in (sc.hosts if sc else ())}
    if name in records.names(record_root):
        for h in records.load(name, record_root).hosts:
            role = h.swarm if h.swarm in ("manager", "worker") else None
            found.setdefault(h.key, Host(h.key, h.engine, role,  # type: ignore[arg-type]
                                         h.advertise_addr))
    return list(found.values()) or [Host("local", None)]
