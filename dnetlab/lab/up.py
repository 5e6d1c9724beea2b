"""`up`: reconcile the live state of every host to the scenario; `plan_up`: what it would
do."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dnetlab import labels
from dnetlab.errors import DnetlabError
from dnetlab.lab import gossipwait, impair, instance, inventory, records
from dnetlab.lab.apply import ApplyOptions, ApplyResult, apply
from dnetlab.lab.preflight import located_externals, preflight
from dnetlab.lab.progress import PlainReporter, Reporter
from dnetlab.lab.session import DEFAULT_WORKERS, Session, uses_swarm
from dnetlab.labels import Owner
from dnetlab.load.pipeline import Loaded
from dnetlab.model import Scenario
from dnetlab.reconcile import swarm
from dnetlab.reconcile.conflicts import ExternalProblem, conflicts
from dnetlab.reconcile.desired import HostDesired, desired_state
from dnetlab.reconcile.observed import HostObserved
from dnetlab.reconcile.plan import Plan, reconcile


@dataclass(frozen=True)
class UpResult:
    plan: Plan
    applied: ApplyResult | None  # None for a dry run or a lab already up to date
    seconds: float


def plan_up(loaded: Loaded, record_root: Path | None = None) -> tuple[Plan, list[str]]:
    """What `up` would do, and the preflight problems it would stop on; changes nothing.
    It plans as the instance `up` would act as here (a new one matches nothing yet)."""
    sc = loaded.scenario
    lab_instance = instance.for_up(sc.name, record_root)
    owner = Owner(sc.name, lab_instance)
    session = Session.open(sc.hosts)
    try:
        desired = desired_state(sc, lab_instance, impair.deployed(sc.name, record_root))
        observed = session.observe(desired, swarm=uses_swarm(sc.hosts))
        impair.observe_impairments(session, desired, observed, owner)
        problems = located_externals(desired, observed, locator(loaded))
        problems += conflicts(owner, desired, observed)
        problems += swarm.conflicts(owner, sc.hosts, observed)
        problems += swarm.gossip_problems(owner, sc.hosts, observed)
        return reconcile(owner, desired, observed, sc.hosts), problems
    finally:
        session.close()


def _overlays_broken(sc: Scenario, owner: Owner, session: Session,
                     observed: Mapping[str, HostObserved], reporter: Reporter,
                     stop: threading.Event | None) -> list[str]:
    """Why the lab's overlays do not carry traffic between every pair of its hosts: a
    host whose swarm gossip never started (waiting does not help), else a host the gossip
    has not reached once gossipwait's wait is over (every host can list peers and still
    miss one for a while). Empty: they work."""
    return (swarm.gossip_problems(owner, sc.hosts, observed)
            or gossipwait.await_peers(swarm.peer_gaps(owner, sc.hosts, observed),
                                      session.engines, observed, reporter.note, stop))


def locator(loaded: Loaded) -> Callable[[ExternalProblem], str]:
    """An external network's problem, located at its `external:` in the file."""
    def locate(p: ExternalProblem) -> str:
        return loaded.issue(("networks", p.key, "external"), p.message, p.hint).format()
    return locate


def _record(loaded: Loaded, state: str, variables: Mapping[str, str],
            vars_files: tuple[str, ...], lab_instance: str) -> records.Record:
    sc = loaded.scenario
    path = loaded.rendered.source.path
    # sealed: this user's dnetlab validated the text, so a later run may trust it
    return records.sealed(records.Record(
        name=sc.name, scenario_path=str(Path(path).resolve()) if path else "",
        rendered=loaded.rendered.text, variables=dict(variables), vars_files=vars_files,
        hosts=tuple(records.HostRecord(h.key, h.engine, h.swarm, h.advertise_addr)
                    for h in sc.hosts), state=state,
        updated_at=time.time(), instance=lab_instance))


def _observe_after(session: Session,
                   desired: Mapping[str, HostDesired]) -> dict[str, HostObserved] | None:
    """The hosts read again after `apply` (for the inventory); None when an engine
    stopped answering (the apply result says so already)."""
    try:
        return session.observe(desired)
    except DnetlabError:
        return None


def _write_inventory(sc: Scenario, owner: Owner,
                     observed: Mapping[str, HostObserved] | None,
                     record_root: Path | None) -> None:
    """`.dnetlab/<lab>.inventory.yaml`: the live addresses as `up` left them (declared
    ones when the hosts could not be read again)."""
    live = None
    if observed is not None:
        live = {}
        for o in observed.values():
            for c in o.owned_containers(owner):
                key = c.label(labels.KEY)
                if key:
                    live[key] = inventory.LiveContainer(
                        c.state, tuple((e.network_name, e.ipv4, e.ipv6) for e in c.endpoints))
    inventory.write(inventory.build(sc, live, owner.instance), record_root)


def up(loaded: Loaded, reporter: Reporter | None = None, *, workers: int = DEFAULT_WORKERS,
       stop: threading.Event | None = None, variables: Mapping[str, str] | None = None,
       vars_files: tuple[str, ...] = (), record_root: Path | None = None,
       record: bool = True) -> UpResult:
    """Reconcile the live state of every host to the scenario. Idempotent.

    `record=False`: leave the lab's record as it is (verify --steps restoring the lab that
    an earlier `up` recorded, maybe from the record itself)."""
    started = time.monotonic()
    reporter = reporter or PlainReporter(quiet=True)
    sc = loaded.scenario
    with records.locked(sc.name, record_root, stop=stop):
        # read under the lock: a second `up` here waits, then acts as the same instance
        lab_instance = instance.for_up(sc.name, record_root)
        owner = Owner(sc.name, lab_instance)
        session = Session.open(sc.hosts)
        try:
            desired = desired_state(sc, lab_instance, impair.deployed(sc.name, record_root))
            observed = session.observe(desired, swarm=uses_swarm(sc.hosts))
            impair.observe_impairments(session, desired, observed, owner)
            preflight(sc, owner, session, desired, observed, reporter,
                      locate=locator(loaded))
            plan = reconcile(owner, desired, observed, sc.hosts)
            def save(state: str) -> None:
                if record:
                    records.save(_record(loaded, state, variables or {}, vars_files,
                                         lab_instance), record_root)

            save("applying")
            if plan.empty:
                if uses_swarm(sc.hosts):  # a lab just made may still be converging
                    waited = _overlays_broken(sc, owner, session, observed, reporter, stop)
                    if waited:
                        save("partial")
                        raise DnetlabError("overlays do not work on every host:\n  "
                                           + "\n  ".join(waited))
                save("up")
                if record:
                    _write_inventory(sc, owner, observed, record_root)
                return UpResult(plan, None, time.monotonic() - started)
            result = apply(plan, session.engines, reporter, options=ApplyOptions(workers),
                           stop=stop, title=f"bringing up lab {sc.name}")
            # Docker accepts every step on a host whose swarm gossip never started and
            # only the traffic fails: read the hosts again so that `up` never calls such
            # a lab up (the check is the one preflight makes before a later `up`)
            check = result.ok and uses_swarm(sc.hosts)
            after = (session.observe(desired, swarm=True) if check
                     else _observe_after(session, desired))
            broken = (_overlays_broken(sc, owner, session, after, reporter, stop)
                      if after and check else [])
            save("up" if result.ok and not broken else "partial")
            if record:
                _write_inventory(sc, owner, after, record_root)
            if broken:
                raise DnetlabError("the lab was made, but overlays do not work on every "
                                   "host:\n  " + "\n  ".join(broken))
            return UpResult(plan, result, time.monotonic() - started)
        finally:
            session.close()
