"""Issue 4: verify. `dnetlab verify` of 100 ping probes in a lab of 20 busybox containers
on one bridge, against the floor (the same pings straight through the Docker SDK, one exec
each, bench/floor.py), measured in the same run.

The lab (`bench-verify`, 10.242.0.0/24) is brought up once with dnetlab, not timed, and
left up while every side runs; it is removed at the end, even when a step fails: only
containers and networks labelled `dnetlab.scenario=bench-verify` are ever removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import floor
import lab_bench
from common import DNETLAB, USER_PYTHON, Samples, check_workers, medians, run_cli, timed

FLOOR_SCRIPT = str(Path(floor.__file__).resolve())

LAB = "bench-verify"
LABEL = f"dnetlab.scenario={LAB}"
WORKERS = floor.WORKERS  # == dnetlab.lab.session.DEFAULT_WORKERS, checked in run()
N_SOURCES, PEERS, COUNT = 20, 5, 1  # 20 sources x 5 targets = 100 pings of 1 echo each
N_PROBES = N_SOURCES * PEERS
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) errors in ", re.M)


def _ip(i: int) -> str:
    return f"10.242.0.{10 + i}"


def _pairs() -> list[tuple[int, int]]:
    """Source i pings the next PEERS containers round the ring: every container is a
    source and a target 5 times."""
    return [(i, (i + k) % N_SOURCES) for i in range(N_SOURCES) for k in range(1, PEERS + 1)]


def lab_scenario() -> str:
    lines = ["version: 1", f"name: {LAB}", "networks:",
             "  net0: {subnet: 10.242.0.0/24, gateway: 10.242.0.1}", "containers:"]
    for i in range(N_SOURCES):
        lines.append(f"  s{i}: {{image: busybox, command: sleep infinity, "
                     f"networks: {{net0: {{ipv4: {_ip(i)}}}}}}}")
    lines.append("probes:")
    for i, j in _pairs():
        lines.append(f"  - {{type: ping, from: s{i}, to: s{j}, count: {COUNT}}}")
    return "\n".join(lines) + "\n"


def floor_spec(names: dict[str, str]) -> dict[str, Any]:
    """The same pings by address (dnetlab resolves `to: sJ` to the same one)."""
    return {"count": COUNT,
            "pings": [{"container": names[f"s{i}"], "address": _ip(j)} for i, j in _pairs()]}


def _all_passed(passed: int, failed: int, errors: int, what: str) -> None:
    if (passed, failed, errors) != (N_PROBES, 0, 0):
        raise RuntimeError(f"{what}: {passed} passed, {failed} failed, {errors} errors; "
                           f"expected {N_PROBES} passed")


class Bench(Samples):
    def __init__(self, work: Path) -> None:
        from dnetlab.load.pipeline import load

        super().__init__()
        self.work = work
        self.engine = lab_bench.Engine(owned=[LABEL])
        self.lab_file = work / "lab.yaml"
        self.lab_file.write_text(lab_scenario())
        self.scenario = load(str(self.lab_file)).scenario
        names = {c.key: c.name for c in self.scenario.containers}
        self.floor_file = work / "ping.json"
        self.floor_spec = floor_spec(names)
        self.floor_file.write_text(json.dumps(self.floor_spec))
        self.execs: list[int] = []

    # -- the lab: up once, down at the end (never timed) -----------------------------------
    def lab_up(self) -> None:
        from dnetlab.lab.up import up
        from dnetlab.load.pipeline import load

        result = up(load(str(self.lab_file)), workers=WORKERS, record_root=self.work)
        if result.applied is not None and not result.applied.ok:
            raise RuntimeError(f"dnetlab.lab.up.up failed: {result.applied.failed[:3]}")
        self.expect_lab("dnetlab up")

    def lab_down(self) -> None:
        from dnetlab.lab.down import down, hosts_for

        try:
            down(LAB, hosts_for(LAB, self.scenario, self.work), workers=WORKERS,
                 record_root=self.work)
        finally:
            self.engine.clean()
            shutil.rmtree(self.work / ".dnetlab", ignore_errors=True)

    def expect_lab(self, what: str) -> None:
        """The lab is whole and no helper container is left: 20 containers, all running,
        and 1 network."""
        self.engine.expect(LABEL, N_SOURCES, 1, what)
        left = len(self.engine._containers(LABEL))  # stopped ones too
        if left != N_SOURCES:
            raise RuntimeError(f"{what}: {left - N_SOURCES} container(s) left besides the lab")

    # -- the sides -------------------------------------------------------------------------
    def dnetlab_cli(self) -> None:
        """`dnetlab verify` as users run it after `up`: the lab's record, table output."""
        seconds, out, _ = run_cli([DNETLAB, "verify"], self.work)
        m = SUMMARY.search(out)
        if m is None:
            raise RuntimeError(f"dnetlab verify: no summary line in:\n{out[-2000:]}")
        passed, failed, errors = (int(g) for g in m.groups())
        _all_passed(passed, failed, errors, "dnetlab verify")
        self.add("verify_cli_s", seconds)

    def dnetlab_in_process(self) -> None:
        from dnetlab.lab.verify import verify

        seconds, run = timed(lambda: verify(self.scenario, workers=WORKERS))
        report = run.report
        _all_passed(report.count("passed"), report.count("failed"), report.count("error"),
                    "dnetlab.lab.verify.verify")
        if len(report.results) != N_PROBES:
            raise RuntimeError(f"dnetlab.lab.verify.verify: {len(report.results)} results")
        self.add("verify_in_process_s", seconds)
        self.execs.append(run.execs)

    def floor_cli(self) -> None:
        seconds, _, _ = run_cli([USER_PYTHON, FLOOR_SCRIPT, "ping", str(self.floor_file),
                                 str(WORKERS)], self.work)
        self.add("verify_floor_s", seconds)

    def floor_in_process(self) -> None:
        api = floor.client()
        try:
            seconds, execs = timed(lambda: floor.ping(api, self.floor_spec))
        finally:
            api.close()
        if execs != N_PROBES:
            raise RuntimeError(f"floor: {execs} execs")
        self.add("verify_floor_in_process_s", seconds)


def _check_same_command(sc: Any) -> None:
    """The floor runs the ping command line dnetlab builds for these probes."""
    from dnetlab.probes.base import Resolved
    from dnetlab.probes.registry import command_for

    if len(sc.probes) != N_PROBES or {p.type for p in sc.probes} != {"ping"}:
        raise RuntimeError(f"the bench lab has {len(sc.probes)} probes, not {N_PROBES} pings")
    ours = command_for(Resolved(sc.probes[0], "s0", "local", _ip(1))).script
    theirs = " ".join(floor.ping_argv(COUNT, _ip(1)))
    if ours != theirs:
        raise RuntimeError(f"dnetlab now pings with {ours!r}, the floor with {theirs!r}; "
                           "update bench/floor.py ping_argv")


def run(rounds: int = 5, log: Callable[[str], None] = print) -> dict[str, float]:
    check_workers(WORKERS, "bench/floor.py")
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-verify-") as tmp:
        bench = Bench(Path(tmp))
        try:
            _check_same_command(bench.scenario)
            bench.engine.clean()
            started = time.perf_counter()
            bench.lab_up()
            log(f"  lab of {N_SOURCES} up in {time.perf_counter() - started:.1f} s (not timed)")
            # Sides compared with each other run back to back, their order rotating.
            groups = [[bench.dnetlab_cli, bench.floor_cli],
                      [bench.dnetlab_in_process, bench.floor_in_process]]
            load = [os.getloadavg()[0]]
            for r in range(rounds):
                for group in groups:
                    k = r % len(group)
                    for side in group[k:] + group[:k]:
                        bench.attempt(side, log, check=bench.expect_lab, recover=bench.lab_up)
                        load.append(os.getloadavg()[0])
                log(f"  round {r + 1}/{rounds}: "
                    + ", ".join(f"{k} {v[-1]:.3f}" for k, v in bench.samples.items()))
            out = medians(bench.samples, log)
            log(f"  execs per in-process verify: {bench.execs}; 1-minute load average "
                f"{min(load):.1f} .. {max(load):.1f}")
        finally:
            try:
                bench.lab_down()
            finally:
                bench.engine.close()
    out.update({
        "verify_vs_floor": out["verify_cli_s"] / out["verify_floor_s"],
        "verify_vs_floor_in_process": (out["verify_in_process_s"]
                                       / out["verify_floor_in_process_s"]),
        "verify_execs_per_source": max(bench.execs) / N_SOURCES,
        "verify_loadavg_1m_max": max(load),
    })
    return out


TARGETS = {
    "verify_vs_floor": ("<=", 1.0),
    "verify_execs_per_source": ("<=", 1.0),
}
