"""`down`: remove everything of this directory's instance of the lab on every host it may
live on; with no record of the lab here, every object labelled with its name, once the
caller confirms the list."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dnetlab.engine.engine import Engine
from dnetlab.lab import instance, records
from dnetlab.lab.apply import ApplyOptions, ApplyResult, apply
from dnetlab.lab.progress import PlainReporter, Reporter
from dnetlab.lab.session import DEFAULT_WORKERS, Session, uses_swarm
from dnetlab.labels import Owner
from dnetlab.model import Host, Scenario
from dnetlab.reconcile.plan import Plan, teardown


@dataclass(frozen=True)
class DownResult:
    plan: Plan
    applied: ApplyResult | None
    seconds: float
    owner: Owner  # whose objects: the record's instance, or any (no record here)
    declined: bool = False  # no record here, and the removal was not confirmed: nothing done
    # what the engines kept that the lab made and could not be removed (not the lab's
    # labelled objects: Docker's swarm bridge), one line each
    left_behind: tuple[str, ...] = ()


def down(name: str, hosts: Iterable[Host], reporter: Reporter | None = None, *,
         workers: int = DEFAULT_WORKERS, graceful: bool = False, volumes: bool = False,
         stop: threading.Event | None = None, record_root: Path | None = None,
         confirm: Callable[[Plan], bool] | None = None) -> DownResult:
    """Remove everything of the recorded instance of this lab on every host; nothing else.

    With no record of the lab here, which copy is whose is unknown: the plan holds every
    object labelled with the lab's name (any instance), and it runs only when `confirm`
    (shown that plan) says yes; without `confirm`, nothing is removed."""
    started = time.monotonic()
    reporter = reporter or PlainReporter(quiet=True)
    hosts = tuple(hosts)
    with records.locked(name, record_root, stop=stop):
        owner = instance.owner_here(name, record_root)  # under the lock: `up` may write it
        session = Session.open(hosts)
        try:
            observed = session.observe(swarm=uses_swarm(hosts))
            plan = teardown(owner, observed.values(), volumes=volumes, hosts=hosts)
            if owner.any_instance and not plan.empty and (confirm is None or not confirm(plan)):
                return DownResult(plan, None, time.monotonic() - started, owner, declined=True)
            result = None
            left_behind: tuple[str, ...] = ()
            if not plan.empty:
                result = apply(plan, session.engines, reporter,
                               options=ApplyOptions(workers, graceful=graceful, volumes=volumes),
                               stop=stop, title=f"taking down lab {name}")
                left_behind = tuple(m for m in session.each(_left_swarm(result),
                                                            _bridge_again) if m)
            if result is None or result.ok:
                if owner.instance:  # what --volumes did not remove is still this instance's
                    records.keep_instance(name, owner.instance, record_root)
                records.forget(name, record_root)
            return DownResult(plan, result, time.monotonic() - started, owner,
                              left_behind=left_behind)
        finally:
            session.close()


def _left_swarm(result: ApplyResult) -> list[str]:
    return [op.host for step in result.steps if step.ok for op in step.ops
            if op.action == "leave-swarm"]


def _bridge_again(engine: Engine) -> str | None:
    """A second look at docker_gwbridge on a host that left the lab's swarm, once every
    host has: one request a host removes it if it is still there and no container uses
    it; what to tell the user when its engine keeps it (`engine.change`)."""
    return engine.remove_left_swarm_bridge(settle_s=0.0)


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
