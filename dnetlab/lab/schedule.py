"""When each step of a plan may start: which steps it waits for.

Phases run in order (see reconcile.plan.Phase), and the waves of a phase in order, with
two exceptions, where waiting for a whole phase would leave the engine idle:

- a container's step waits for the creation of the networks it joins, not of every
  network: the containers of the first network made start while the next is made;
- a network's removal waits for the removal of the containers on it (and for their
  disconnects from it), not of every container: the containers are removed network by
  network, and a network goes while the next network's containers are removed.

Docker makes and removes networks one at a time (two bridges take twice one's time), so
on a lab of 50 containers on two bridges each exception saves about one network's
creation or removal (docs/benchmarks.md). A step whose needs are not known (a container
only started; a removed container whose networks were not read) waits for the whole
phase, as every step did before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dnetlab.reconcile.plan import Op, Phase, Plan

# the phase whose steps a step of the key phase waits for one by one, not all together
RELAXED: dict[Phase, Phase] = {
    Phase.CONTAINERS: Phase.CREATE_NETWORKS,
    Phase.REMOVE_NETWORKS: Phase.REMOVE_CONTAINERS,
}


@dataclass(frozen=True)
class Step:
    ops: tuple[Op, ...]  # carried out one after the other, by one worker
    group: int  # index of its phase and wave, in the order they run
    needs: tuple[int, ...]  # steps (indices) of its relaxed phase that must end first

    @property
    def host(self) -> str:
        return self.ops[0].host


@dataclass(frozen=True)
class Schedule:
    steps: tuple[Step, ...]  # in the order they are handed to the workers once ready
    # per group: the groups that must have ended before any of its steps starts
    barriers: tuple[tuple[int, ...], ...]


def _tasks(ops: list[Op], phase: Phase) -> list[tuple[Op, ...]]:
    """The steps of one phase. In the container phase, everything that touches one
    container is one step, in order: connects before the start."""
    if phase not in (Phase.CONTAINERS, Phase.IMPAIR):
        return [(op,) for op in ops]
    grouped: dict[tuple[str, str], list[Op]] = {}
    for op in ops:
        grouped.setdefault((op.host, op.name), []).append(op)
    order = {"create-container": 0, "connect": 1, "start-container": 2, "unpause-container": 2,
             "impair": 3, "heal": 3}
    return [tuple(sorted(g, key=lambda o: order[o.action])) for g in grouped.values()]


def _groups(plan: Plan) -> list[tuple[Phase, list[Op]]]:
    """Each phase split into its waves, in order: a container that links others starts
    once the containers it links run."""
    out: list[tuple[Phase, list[Op]]] = []
    for phase, ops in plan.phases():
        waves: dict[int, list[Op]] = {}
        for op in ops:
            waves.setdefault(op.wave, []).append(op)
        out += [(phase, waves[w]) for w in sorted(waves)]
    return out


def _joins(step: tuple[Op, ...]) -> frozenset[str] | None:
    """The networks a container step needs made first (None: not known)."""
    if not any(op.action in ("create-container", "connect") for op in step):
        return None  # only started or unpaused: its networks are not in the plan
    names: set[str] = set()
    for op in step:
        if op.action == "create-container" and op.container is not None:
            names.update(a.network_name for a in op.container.attachments)
        elif op.action == "connect" and op.attachment is not None:
            names.add(op.attachment.network_name)
    return frozenset(names)


def _leaves(op: Op) -> frozenset[str] | None:
    """The networks a removal step frees (None: not known, so possibly any)."""
    if op.action == "disconnect":
        return frozenset((op.network_name or "",))
    return None if op.networks is None else frozenset(op.networks)


def _by_network(step: tuple[Op, ...]) -> tuple[int, str]:
    """Container removals sorted so that a network's containers go together."""
    nets = _leaves(step[0])
    return (0, min(nets)) if nets else (1, "")


def _needing(indices: Iterable[int], provides: dict[int, frozenset[str] | None],
             names: frozenset[str] | None) -> tuple[int, ...]:
    if names is None:
        return tuple(indices)
    return tuple(i for i in indices
                 if provides[i] is None or not names.isdisjoint(provides[i] or ()))


def schedule(plan: Plan) -> Schedule:
    groups = _groups(plan)
    raw: list[tuple[int, Phase, tuple[Op, ...]]] = []
    for g, (phase, ops) in enumerate(groups):
        tasks = _tasks(ops, phase)
        if phase == Phase.REMOVE_CONTAINERS:
            tasks.sort(key=_by_network)
        raw += [(g, phase, t) for t in tasks]
    # what each step of a relaxed phase makes or frees, by network name
    made: dict[int, frozenset[str] | None] = {
        i: frozenset((t[0].name,)) for i, (_, ph, t) in enumerate(raw)
        if ph == Phase.CREATE_NETWORKS}
    freed: dict[int, frozenset[str] | None] = {
        i: _leaves(t[0]) for i, (_, ph, t) in enumerate(raw) if ph == Phase.REMOVE_CONTAINERS}
    steps = []
    for g, phase, task in raw:
        if phase == Phase.CONTAINERS:
            needs = _needing(made, made, _joins(task))
        elif phase == Phase.REMOVE_NETWORKS:
            needs = _needing(freed, freed, frozenset((task[0].name,)))
        else:
            needs = ()
        steps.append(Step(task, g, needs))
    barriers = tuple(tuple(j for j in range(g) if groups[j][0] != RELAXED.get(phase))
                     for g, (phase, _) in enumerate(groups))
    return Schedule(tuple(steps), barriers)
