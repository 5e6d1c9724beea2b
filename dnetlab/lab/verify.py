"""`verify`: run the scenario's probes (and the derived ones) in the live lab."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dnetlab import labels
from dnetlab.engine import hostexec
from dnetlab.errors import DnetlabError, UsageError
from dnetlab.lab import instance
from dnetlab.lab.session import DEFAULT_WORKERS, Session
from dnetlab.labels import Owner
from dnetlab.model import Scenario
from dnetlab.probes.registry import Probe
from dnetlab.reconcile.observed import HostObserved


@dataclass(frozen=True)
class VerifyRun:
    report: Any  # verify.outcome.Report
    execs: int  # exec calls and helper containers used


def verify(sc: Scenario, *, workers: int = DEFAULT_WORKERS, stop: threading.Event | None = None,
           auto: bool = False, only: tuple[str, ...] = (),
           on_result: Callable[[Any], None] | None = None,
           on_start: Callable[[int], None] | None = None, owner: Owner | None = None,
           record_root: Path | None = None, capture_dir: Path | None = None) -> VerifyRun:
    """Run the scenario's probes (and with `auto` the derived ones) in the live lab: the
    instance recorded here (`owner`), else the one copy of the lab its hosts run. With
    `capture_dir`, each failed probe's source container is captured there while the
    probe is tried once more (`lab.failcapture`)."""
    from dnetlab.verify.outcome import Report
    from dnetlab.verify.runner import Verifier, live_lab, resolve_all

    started = time.monotonic()
    probes = selected(sc, auto, only)
    # the probes of an ssh:// host go in one batch command (`hostexec`): its session is
    # opened alongside the connection's first channel, not after the reads
    session = Session.open(sc.hosts, prepare=hostexec.COMMAND)
    try:
        observed = session.observe()
        owner = one_instance(owner or instance.owner_here(sc.name, record_root), observed)
        remove_stale_helpers(owner, session, observed)
        lab = live_lab(sc, observed, owner)
        resolved = resolve_all(sc, lab, probes)
        if on_start is not None:
            on_start(len(resolved))
        verifier = Verifier(sc, session.engines, lab, workers=workers, stop=stop,
                            on_result=on_result, owner=owner)
        results = verifier.run(resolved)
        if capture_dir is not None:
            from dnetlab.lab.failcapture import capture_failed

            results = capture_failed(sc, session.engines, lab, owner, resolved, results,
                                     capture_dir, stop)
    finally:
        session.close()
    return VerifyRun(Report(sc.name, tuple(results), time.monotonic() - started,
                            tuple(verifier.lost[h] for h in sorted(verifier.lost))),
                     verifier.execs)


def selected(sc: Scenario, auto: bool, only: tuple[str, ...]) -> list[Probe]:
    """The static probes to run: the file's, the derived ones with `auto`, and of those
    only the ones named in `only` when it names any."""
    from dnetlab.verify.auto import derived

    probes = list(sc.probes) + (derived(sc) if auto else [])
    if only:
        names = [p.name for p in probes]
        unknown = [n for n in only if n not in names]
        if unknown:
            raise UsageError(f"no probe named {', '.join(map(repr, unknown))} in lab {sc.name}; "
                             f"its probes: {', '.join(map(repr, names)) or 'none'}")
        probes = [p for p in probes if p.name in only]
    return probes


def one_instance(owner: Owner, observed: Mapping[str, HostObserved]) -> Owner:
    """With no record here, the copy of the lab that its hosts run; probing two copies at
    once would mix their containers."""
    if not owner.any_instance:
        return owner
    seen = sorted({i for o in observed.values() for i in o.instances(owner.scenario)})
    if len(seen) > 1:
        raise UsageError(
            f"no record of lab {owner.scenario} here, and its hosts run several copies of it "
            f"({', '.join(labels.describe_instance(i) for i in seen)}): run `dnetlab verify` "
            "in the working directory that brought up the one you mean")
    return Owner(owner.scenario, seen[0]) if seen else owner


def remove_stale_helpers(owner: Owner, session: Session,
                          observed: Mapping[str, HostObserved]) -> None:
    """Helpers of a run that was killed outright (kill -9) are cleared by the next one of
    the same instance (another copy's helpers may be in use by its own verify)."""
    if owner.any_instance:
        return
    for host, o in observed.items():
        for c in o.owned_containers(owner):
            if c.label(labels.KIND) == "helper":
                with contextlib.suppress(DnetlabError):
                    session.engines[host].remove_container(c.id, c.name)
