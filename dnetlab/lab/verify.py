"""`verify`: run the scenario's probes (and the derived ones) in the live lab."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dnetlab import labels
from dnetlab.errors import DnetlabError, UsageError
from dnetlab.lab.session import DEFAULT_WORKERS, Session
from dnetlab.model import Scenario
from dnetlab.reconcile.observed import HostObserved


@dataclass(frozen=True)
class VerifyRun:
    report: Any  # verify.outcome.Report
    execs: int  # exec calls and helper containers used


def verify(sc: Scenario, *, workers: int = DEFAULT_WORKERS, stop: threading.Event | None = None,
           auto: bool = False, only: tuple[str, ...] = (),
           on_result: Callable[[Any], None] | None = None,
           on_start: Callable[[int], None] | None = None) -> VerifyRun:
    """Run the scenario's probes (and with `auto` the derived ones) in the live lab."""
    from dnetlab.verify.auto import derived
    from dnetlab.verify.outcome import Report
    from dnetlab.verify.runner import Verifier, live_lab, resolve_all

    started = time.monotonic()
    probes = list(sc.probes) + (derived(sc) if auto else [])
    if only:
        names = [p.name for p in probes]
        unknown = [n for n in only if n not in names]
        if unknown:
            raise UsageError(f"no probe named {', '.join(map(repr, unknown))} in lab {sc.name}; "
                             f"its probes: {', '.join(map(repr, names)) or 'none'}")
        probes = [p for p in probes if p.name in only]
    session = Session.open(sc.hosts)
    try:
        observed = session.observe()
        _remove_stale_helpers(sc, session, observed)
        lab = live_lab(sc, observed)
        resolved = resolve_all(sc, lab, probes)
        if on_start is not None:
            on_start(len(resolved))
        verifier = Verifier(sc, session.engines, lab, workers=workers, stop=stop,
                            on_result=on_result)
        results = verifier.run(resolved)
    finally:
        session.close()
    return VerifyRun(Report(sc.name, tuple(results), time.monotonic() - started,
                            tuple(verifier.lost[h] for h in sorted(verifier.lost))),
                     verifier.execs)


def _remove_stale_helpers(sc: Scenario, session: Session,
                          observed: Mapping[str, HostObserved]) -> None:
    """Helpers of a run that was killed outright (kill -9) are cleared by the next one."""
    for host, o in observed.items():
        for c in o.owned_containers(sc.name):
            if c.label(labels.KIND) == "helper":
                with contextlib.suppress(DnetlabError):
                    session.engines[host].remove_container(c.id, c.name)
