"""Impairments at the lab level: reading them back from the hosts before a plan, and
the preflight that makes sure each host can apply them (the tools image is there, the
kernel has sch_netem for a delay)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from dnetlab.engine.engine import Engine
from dnetlab.engine.errors import EngineError
from dnetlab.engine.impair import TOOLS_IMAGE
from dnetlab.errors import DnetlabError, EnvironmentFailure
from dnetlab.lab.progress import Reporter
from dnetlab.lab.session import Session, _parallel
from dnetlab.labels import Owner
from dnetlab.model import Host, Impairment, Scenario
from dnetlab.reconcile.desired import HostDesired
from dnetlab.reconcile.observed import HostObserved


def deployed(name: str, record_root: Path | None) -> Scenario | None:
    """The scenario of the lab's last `up` in this directory, if any: its impaired
    containers are read back too, so that an impairment dropped from the file is healed."""
    from dnetlab.lab import records
    from dnetlab.lab.deployed import scenario_from_record

    try:
        return scenario_from_record(records.load(name, record_root))
    except DnetlabError:
        return None


def observe_impairments(session: Session, desired: Mapping[str, HostDesired],
                        observed: dict[str, HostObserved], owner: Owner) -> None:
    """Read back, in place, the impairments of the lab's running containers that should
    have one or had one. On a host without the tools image dnetlab never set any: its
    containers count as read, with nothing on them."""
    def one(host: str) -> tuple[str, HostObserved] | None:
        d, o = desired[host], observed[host]
        if not d.impair_read:
            return None
        live = [c for c in o.owned_containers(owner)
                if c.name in d.impair_read and c.state == "running"]
        found: dict[tuple[str, str], Impairment] = {}
        if TOOLS_IMAGE in o.images and live:
            try:
                read = session.engines[host].read_impairments([c.id for c in live])
            except EngineError as exc:
                raise EnvironmentFailure(f"reading impairments: {exc.message}") from exc
            for c in live:
                for ep in c.endpoints:
                    imp = read[c.id].impairment(ep.mac)
                    if imp is not None:
                        found[(c.name, ep.network_name)] = imp
        return host, replace(o, impairments=tuple(found.items()),
                             impairments_read=frozenset(c.name for c in live))

    for res in _parallel(list(desired), one):
        if res is not None:
            observed[res[0]] = res[1]


def preflight_problems(session: Session, desired: Mapping[str, HostDesired],
                       observed: dict[str, HostObserved], reporter: Reporter) -> list[str]:
    """Bring the tools image to each host that needs it (copied from the local engine or
    another host: it is dnetlab's own, built by scripts/nettools-image.sh, never pulled);
    then refuse a delay or jitter on a host whose kernel lacks sch_netem."""
    problems: list[str] = []
    need = [h for h, d in desired.items() if d.impaired]
    for host in need:
        if TOOLS_IMAGE in observed[host].images:
            continue
        holders = [k for k, o in observed.items() if k != host and TOOLS_IMAGE in o.images]
        why = copy_tools(session.engines, holders, host, reporter)
        if why:
            problems.append(f"host {host}: dnetlab's tools image {TOOLS_IMAGE} is missing "
                            f"({why}); build it with scripts/nettools-image.sh (make engine) "
                            "on the machine that runs dnetlab")
            continue
        observed[host] = replace(observed[host],
                                 images=observed[host].images | {TOOLS_IMAGE})
    for host in need:
        d = desired[host]
        netem = [f"{c.key} on {a.network_key}" for c in d.containers for a in c.attachments
                 if a.impair is not None and a.impair.needs_netem]
        if not netem or TOOLS_IMAGE not in observed[host].images:
            continue
        try:
            missing = session.engines[host].netem_missing()
        except EngineError as exc:
            problems.append(f"host {host}: cannot check for sch_netem ({exc.message})")
            continue
        if missing:
            problems.append(
                f"host {host}: delay and jitter need the kernel's sch_netem, which this host "
                f"lacks (tc: {missing}); used by {', '.join(netem)}. Load it there "
                "(modprobe sch_netem) or drop delay and jitter from those impairments")
    return problems


def ensure_tools(engines: Mapping[str, Engine], host: str, reporter: Reporter) -> str | None:
    """None once the tools image is on `host` (copied there as `up`'s preflight does when
    it is not), else why it cannot be; for work outside `up`, such as a step's impair."""
    if engines[host].has_image(TOOLS_IMAGE):
        return None
    holders = [k for k, e in engines.items() if k != host and e.has_image(TOOLS_IMAGE)]
    return copy_tools(engines, holders, host, reporter)


def copy_tools(engines: Mapping[str, Engine], holders: Sequence[str], host: str,
               reporter: Reporter) -> str | None:
    """None once the tools image is on `host`, copied from one of `holders` (hosts of the
    lab that have it) or else from the local engine; else why not."""
    sources = [engines[k] for k in holders]
    local: Engine | None = None
    try:
        if not sources:
            try:
                local = Engine.open(Host("local", None))
            except DnetlabError:
                return "no other host of the lab has it and the local engine cannot be reached"
            if TOOLS_IMAGE not in local.observe([TOOLS_IMAGE]).images:
                return "neither the local engine nor another host of the lab has it"
            sources = [local]
        for src in sources:
            reporter.note(f"copying image {TOOLS_IMAGE} to host {host} from {src.host.key}")
            try:
                engines[host].load_image(src.save_image(TOOLS_IMAGE))
                return None
            except EngineError as exc:
                reporter.note(f"copying {TOOLS_IMAGE} from {src.host.key} failed: "
                              f"{exc.message}")
        return "copying it failed"
    finally:
        if local is not None:
            local.close()
