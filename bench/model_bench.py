"""Issue 13, part 4: a model of `up`, `verify` and `down` for 1 to 100 hosts.

The test bed holds 6 engines; the model holds any number. It is dnetlab's own code (the
planner, preflight, apply's phases, waves and thread pool, verify's rounds and per-host
SSH batching) running against `simengine.FakeConnection`s that replay what each engine
call cost on the real test hosts (see bench/simengine.py). The lab has the shape of the
multi-host bench (bench/multihost_bench.py): 10 busybox containers per host on one
overlay, each pinging its twin on the next host; 1 swarm manager up to 3 hosts, 3 from 6.

1. Calibration, on the real test bed (hosts h1, h2): the lab brought up, verified (all
   probes, then one; then every exec attached, then every exec in the SSH command, all
   and one) and taken down in process with one worker, every engine call recorded with
   its duration: the median of each kind is its cost (an attached exec's from the run
   with every exec attached; the SSH command's from the runs with every exec in it). A
   new SSH channel's cost is the multi-host bench's own measure (a channel to the
   engine's socket opened and closed). How much engine work the bed's one machine does
   at once (`parallel`) is its number of cores (every engine of the bed runs on this
   machine). One figure is fitted: the share of an attached exec that holds the machine
   (`attach_busy`), the value whose simulated verify of that 2-host lab with dnetlab's 8
   workers comes closest to the real one.
2. The real 3- and 6-host labs, in process, with channels counted and calls recorded.
3. The model for 1, 3, 6, 20, 100 hosts, twice: as on the test bed (every host on one
   machine) and as on 100 machines (each host its own `parallel`); checked against step 2
   (`model_error_*`: time, `model_channel_error_*`: SSH channels, target 25 % each), its
   calls against the real calls (`model_call_mismatch_*`),
   and its dependence on the time scale (`model_scale_drift`).
4. docs/scale.svg, the curve.

Run by `bench/run.py` (skip with `--no-model`), or alone:
`.venv/bin/python bench/model_bench.py [--rounds N] [--no-real]` (`--no-real` reuses the
calibration and the real figures already in bench/results.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import multihost_bench as mh
import simengine as se
from common import lab_down, lab_up, merge_results, print_table

from dnetlab.engine.engine import ConnectionOpener, use_opener

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
SVG = ROOT / "docs" / "scale.svg"
HOSTS = (1, 3, 6, 20, 100)
CHECKED = (3, 6)
PHASES = ("up", "verify", "down")
WORKERS = mh.WORKERS
SCALE = 0.2  # simulated seconds per real second of sleep (see simengine's docstring)
TARGETS: dict[str, tuple[str, float]] = {
    **{f"model_error_{n}_hosts_{p}": ("<=", 0.25) for n in CHECKED for p in PHASES},
    **{f"model_channel_error_{n}_hosts_{p}": ("<=", 0.25) for n in CHECKED for p in PHASES},
    **{f"model_call_mismatch_{n}_hosts": ("<=", 0.03) for n in CHECKED},
    "model_scale_drift": ("<=", 0.1),
}


def managers_for(n: int) -> int:
    """The swarm's managers, as the real labs have them: 1 up to 3 hosts, then 3."""
    return 1 if n < 6 else 3


def fake_addresses(n: int, real: list[str]) -> list[str]:
    return real[:n] if n <= len(real) else [f"10.98.{h // 250}.{h % 250 + 1}"
                                             for h in range(n)]


@contextmanager
def opener(op: ConnectionOpener) -> Iterator[None]:
    previous = use_opener(op)
    try:
        yield
    finally:
        use_opener(previous)


# -- one lab's three phases, in process (the same code for the real bed and the model) --------

Phase = tuple[float, int, list[se.Call]]  # seconds, SSH channels, calls


def run_phases(path: Path, root: Path, workers: int, counts: Callable[[], int],
               log: se.CallLog, checks: dict[str, Callable[[], None]] | None = None,
               probes: tuple[str, ...] = ()) -> dict[str, Phase]:
    """up, verify (all probes, then `probes` alone as "verify_one" when given), down."""
    from dnetlab.lab.verify import verify
    from dnetlab.load.pipeline import load

    def do_verify(only: tuple[str, ...] = ()) -> None:
        run = verify(load(str(path)).scenario, workers=workers, only=only, record_root=root)
        bad = [r for r in run.report.results if r.status != "passed"]
        if bad:
            raise RuntimeError(f"verify: {len(bad)} probes did not pass: {bad[:2]}")

    steps: list[tuple[str, Callable[[], Any]]] = [
        ("up", lambda: lab_up(str(path), root, workers)), ("verify", do_verify)]
    if probes:
        # the calibration's: the exec costs apart, each way alone (with one worker: one
        # exec at a time), not side by side as a verify runs them (engine.exec.exec_many)
        steps += [("verify_one", lambda: do_verify(probes)),
                  ("verify_attached", lambda: attach_max(10**6, do_verify)),
                  ("verify_script", lambda: attach_max(0, do_verify)),
                  ("verify_one_script", lambda: attach_max(0, lambda: do_verify(probes)))]
    steps.append(("down", lambda: lab_down(str(path), root, workers)))
    out: dict[str, Phase] = {}
    for name, fn in steps:
        counts()
        log.take()
        started = time.perf_counter()
        fn()
        seconds = time.perf_counter() - started
        out[name] = (seconds, counts(), log.take())
        if checks and name in checks:
            checks[name]()
    return out


def attach_max(n: int, fn: Callable[[], None]) -> None:
    """`fn` with at most `n` execs a host attached (`engine.exec.ATTACH_MAX`)."""
    from dnetlab.engine import exec as execs

    saved, execs.ATTACH_MAX = execs.ATTACH_MAX, n
    try:
        fn()
    finally:
        execs.ATTACH_MAX = saved


# -- the real bed ------------------------------------------------------------------------------

class RealBed:
    """The first hosts of the test bed, measured in process with calls recorded."""

    def __init__(self, work: Path, log: Callable[[str], None]) -> None:
        self.work, self.say = work, log

    def lab(self, n: int, workers: int, rounds: int, probes: tuple[str, ...] = ()) -> list[
            dict[str, Phase]]:
        bed = mh.Bed(mh.model_shape(n, managers_for(n)))
        try:
            foreign = bed.foreign()
            if foreign:
                raise RuntimeError("the test hosts run containers that are not the bench's "
                                   f"({', '.join(foreign[:5])}): run it when no test runs")
            bed.reset(images=False)
            self.free_gossip(bed)
            bed.baseline = [bed.state(api)["names"] for api in bed.api]
            d = self.work / f"real{n}-w{workers}"
            d.mkdir(exist_ok=True)
            path = d / "lab.yaml"
            path.write_text(mh.lab_scenario(mh.model_shape(n, managers_for(n)), bed.addresses))
            for attempt in range(1, 4):  # not timed: copies busybox where it is missing
                try:
                    lab_up(str(path), d, WORKERS)
                    lab_down(str(path), d, WORKERS)
                    break
                except Exception:
                    if attempt == 3:
                        raise
                    with suppress(Exception):
                        lab_down(str(path), d, WORKERS)
                    bed.reset(images=False)
                    self.free_gossip(bed)
            counter, calls = mh.ChannelCounter(), se.CallLog()
            checks = {"up": lambda: bed.expect_up("up"), "down": lambda: self.gone(bed)}
            runs = []
            with counter.installed(), opener(se.recording_opener(calls)):
                for r in range(rounds):
                    for attempt in range(1, 4):
                        try:
                            got = run_phases(path, d, workers, lambda: counter.reset()[0],
                                             calls, checks, probes)
                            break
                        except Exception as exc:  # the bed's fault, not dnetlab's: again
                            if attempt == 3:
                                raise
                            why = (str(exc).splitlines() or [repr(exc)])[-1][:160]
                            self.say(f"  round {r + 1}: attempt {attempt} discarded ({why})")
                            with suppress(Exception):
                                lab_down(str(path), d, WORKERS)
                            bed.reset(images=False)
                            self.free_gossip(bed)
                    runs.append(got)
                    self.say(f"  real {n} host(s), {workers} worker(s), round {r + 1}: "
                             + ", ".join(f"{k} {v[0]:.2f} s/{v[1]} ch" for k, v in got.items()))
            return runs
        finally:
            with suppress(Exception):
                if bed.dirty():
                    bed.reset(images=False)
            bed.close()

    def free_gossip(self, bed: mh.Bed) -> None:
        """Docker 20.10 can keep a left swarm's gossip on port 7946 (docs/multihost.md):
        then the next swarm's overlays reach no other host, until that dockerd restarts
        (as the multi-host tests do it, under the engine lock)."""
        import subprocess

        for n, h in enumerate(bed.hosts):
            for _ in range(30):
                ss = subprocess.run(["nsenter", f"--net=/run/netns/dnl-{h['name']}", "ss",
                                     "-Htuln", "sport = :7946"], capture_output=True,
                                    text=True, check=True)
                if not ss.stdout.strip():
                    break
                time.sleep(0.1)
            else:
                self.say(f"  {h['name']}: a left swarm's gossip stays: restarting its dockerd")
                i = h["name"][1:]
                for cmd in ("stop-engine", "start-engine"):
                    subprocess.run(["bash", str(mh.TESTBED), cmd, i], check=True,
                                   capture_output=True, timeout=300)
                bed.api[n].close()
                bed.api[n] = mh._docker().APIClient(base_url=f"unix://{h['socket']}",
                                                    version="auto", timeout=60)
                bed.reset(images=False)

    @staticmethod
    def gone(bed: mh.Bed) -> None:
        """Nothing of the lab and no swarm left."""
        for h, api in zip(bed.hosts, bed.api, strict=True):
            s = bed.state(api)
            if s["containers"] or s["networks"] or s["swarm"] != "inactive":
                raise RuntimeError(f"down: {h['name']} still has {s}")

    def channel_cost(self) -> dict[str, float]:
        """The multi-host bench's measure of a request on a new channel and on an open one
        (on its 3 hosts)."""
        bed, local = mh.Bed(), mh.Local()
        try:
            b = mh.Bench(self.work, bed, local, self.say)
            b.diagnose()
            return b.out
        finally:
            bed.close()
            local.api.close()


def calibrate(runs: list[dict[str, Phase]], diag: dict[str, float]) -> dict[str, float]:
    """Costs from the recorded one-worker runs: the median duration of each call kind."""
    by_kind: dict[tuple[str, str], list[float]] = {}
    sessions: dict[int, list[float]] = {}
    for run in runs:
        for phase, (_, _, calls) in run.items():
            for c in calls:
                if c.kind == se.SESSION:
                    # from the phases that send every exec in the SSH command: 10 jobs and 1
                    if phase.endswith("_script"):
                        sessions.setdefault(c.jobs, []).append(c.seconds)
                elif c.kind == se.ATTACH:
                    if phase == "verify_attached":  # one at a time, nothing beside them
                        by_kind.setdefault((c.transport, c.kind), []).append(c.seconds)
                elif not c.kind.endswith(se.FAILED):  # a wait's retry: in the linger
                    by_kind.setdefault((c.transport, c.kind), []).append(c.seconds)
    flat = {f"model_cal_{t}_{k}_s": statistics.median(v) for (t, k), v in by_kind.items()}
    many, one = max(sessions), min(sessions)
    t_many, t_one = statistics.median(sessions[many]), statistics.median(sessions[one])
    job = max(0.0, (t_many - t_one) / (many - one)) if many != one else 0.0
    flat["model_cal_ssh_session_job_s"] = job
    flat["model_cal_ssh_session_base_s"] = max(0.0, t_one - job * one)
    flat["model_cal_gwbridge_linger_s"] = statistics.median(
        gwbridge_linger(run["down"][2]) for run in runs)
    # a new pooled channel goes to the engine's socket where the host allows it (the test
    # bed does): its open, measured; else it is an SSH session whose command (`docker
    # system dial-stdio`) runs in the user's login shell, and the session running `true`
    # is the nearest measure
    flat["model_cal_ssh_channel_s"] = diag.get("ssh_engine_channel_s",
                                               diag["ssh_session_true_s"])
    return flat


def gwbridge_linger(calls: list[se.Call]) -> float:
    """From a recorded down: how long after its swarm leave a host's docker_gwbridge was
    still polled (down waits for the left swarm's `ingress-sbox` endpoint to go), the
    median over hosts."""
    waits = []
    for host in {c.host for c in calls}:
        mine = sorted((c for c in calls if c.host == host), key=lambda c: c.at)
        leave = next((c for c in mine if c.kind == "leave_swarm"), None)
        if leave is None:
            continue
        end = leave.at + leave.seconds
        polls = [c for c in mine if c.at >= end and c.kind in (
            "inspect_network", "remove_network" + se.FAILED)]
        waits.append(max((c.at - end for c in polls), default=0.0))
    return statistics.median(waits) if waits else 0.0


# -- the model ---------------------------------------------------------------------------------

def simulate(costs: se.Costs, n: int, addresses: list[str], work: Path,
             scale: float = SCALE, workers: int = WORKERS,
             probes: tuple[str, ...] = ()) -> tuple[dict[str, Phase], se.Sim]:
    sim = se.Sim(costs, scale)
    d = work / f"sim{n}-{'shared' if costs.shared else 'own'}-{scale}-w{workers}"
    d.mkdir(parents=True, exist_ok=True)
    path = d / "lab.yaml"
    path.write_text(mh.lab_scenario(mh.model_shape(n, managers_for(n)),
                                     fake_addresses(n, addresses)))
    with opener(sim.opener()):
        got = run_phases(path, d, workers, lambda: sim.reset_counts()[0], sim.log,
                         probes=probes)
    # simulated seconds: the sleeps were `scale` of the costs
    return {k: (s / scale, ch, calls) for k, (s, ch, calls) in got.items()}, sim


# The figures fitted on the 2-host runs with 8 workers, in this order: the key, the
# values tried, the phase whose simulated time is to be nearest the real one
FITS = (
    # the share of an attached exec that holds the machine (`Costs.attach_busy`)
    ("model_cal_attach_busy", (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0), "verify"),
)


def machine(flat: dict[str, float]) -> dict[str, float]:
    """`flat` with `parallel`, the engine calls one machine serves at once, set to this
    machine's cores: the bed's engines all run here. It was fitted on the 2-host `up`
    (and found 2) until the model's slots were given in the order asked for
    (`simengine.Slots`); since, that one phase lands between 2 (20 % over) and 3 (10 %
    under), too near to call, where the cores are a measurement."""
    return {**flat, "model_cal_parallel": float(os.cpu_count() or 1)}


def fit(flat: dict[str, float], real: dict[str, float], addresses: list[str], work: Path,
        log: Callable[[str], None]) -> dict[str, float]:
    """`flat` with each of `FITS` set to the value whose simulated 2-host phase is
    nearest the real one (`real`: phase -> seconds; a phase not measured is not fitted)."""
    flat = dict(flat)
    for key, values, phase in FITS:
        if phase not in real:
            continue
        best, best_err = values[-1], float("inf")
        for v in values:
            costs = se.Costs.from_flat({**flat, key: v})
            got, _ = simulate(costs, 2, addresses, work / f"fit-{key}-{v}")
            err = abs(got[phase][0] - real[phase]) / real[phase]
            log(f"  fit: {key} {v:.2f} -> simulated {phase} {got[phase][0]:.2f} s "
                f"(real {real[phase]:.2f} s)")
            if err < best_err:
                best, best_err = v, err
        flat[key] = best
    return flat


def real_2_hosts(out: dict[str, float]) -> dict[str, float]:
    """The real 2-host figures the fits aim at: phase -> seconds."""
    return {p: out[f"model_real_2_hosts_{p}_s"] for p in PHASES
            if f"model_real_2_hosts_{p}_s" in out}


def where_time_goes(calls: list[se.Call]) -> dict[str, float]:
    """Engine seconds per call kind (the sum over hosts: work, not wall time)."""
    out: Counter[str] = Counter()
    for c in calls:
        out[c.kind] += c.seconds
    return dict(out)


def call_mismatch(real: dict[str, Phase], model: dict[str, Phase]) -> float:
    """The share of calls that differ between the real run and the model (by kind and
    host, per phase): 0 when the model makes exactly the calls dnetlab made. A wait's
    repeats are left out (`simengine.decided`): their number is the wait's length."""
    diff = total = 0
    for phase in PHASES:
        r = Counter((c.host, c.kind) for c in se.decided(real[phase][2]))
        m = Counter((c.host, c.kind) for c in se.decided(model[phase][2]))
        diff += sum(((r - m) + (m - r)).values())
        total += sum(r.values())
    return diff / max(1, total)


def mismatched_kinds(real: dict[str, Phase], model: dict[str, Phase]) -> str:
    """Where `call_mismatch` comes from: per phase and kind, the real count less the
    model's, over all hosts."""
    parts = []
    for phase in PHASES:
        r, m = se.kinds(real[phase][2]), se.kinds(model[phase][2])
        parts += [f"{phase} {k} {r[k] - m[k]:+d}" for k in sorted(set(r) | set(m))
                  if r[k] != m[k]]
    return ", ".join(parts)


# -- the plot ----------------------------------------------------------------------------------

def svg(curves: dict[str, list[tuple[int, float]]], points: dict[str, list[tuple[int, float]]]
        ) -> str:
    """A log-log chart: seconds against hosts, one line per curve, real runs as dots."""
    import math

    w, h, left, right, top, bottom = 720, 440, 70, 190, 30, 50
    xs = [x for c in curves.values() for x, _ in c]
    ys = [y for c in (*curves.values(), *points.values()) for _, y in c if y > 0]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * (w - left - right)

    def py(y: float) -> float:
        return h - bottom - (math.log10(y) - y0) / (y1 - y0) * (h - top - bottom)

    colours = {"up": "#1f77b4", "verify": "#2ca02c", "down": "#d62728"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">dnetlab: wall time against hosts '
           '(10 containers per host, one overlay; model and real runs)</text>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{w - right}" y2="{y:.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{10 ** e:g} s'
                   '</text>')
    for x in sorted(set(xs)):
        out.append(f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{h - bottom}" '
                   'stroke="#eee"/>')
        out.append(f'<text x="{px(x):.1f}" y="{h - bottom + 16}" text-anchor="middle">{x}'
                   '</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">'
               'hosts</text>')
    for n, (name, pts) in enumerate(curves.items()):
        phase, _, mode = name.partition(" ")
        dash = "" if "bed" in mode else ' stroke-dasharray="6 4"'
        path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}"
                        for i, (x, y) in enumerate(pts))
        out.append(f'<path d="{path}" fill="none" stroke="{colours.get(phase, "#555")}" '
                   f'stroke-width="2"{dash}/>')
        ly = top + 14 + 18 * n
        out.append(f'<line x1="{w - right + 12}" y1="{ly - 4}" x2="{w - right + 36}" '
                   f'y2="{ly - 4}" stroke="{colours.get(phase, "#555")}" stroke-width="2"'
                   f'{dash}/>')
        out.append(f'<text x="{w - right + 42}" y="{ly}">{name}</text>')
    for name, pts in points.items():
        for x, y in pts:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="black">'
                       f'<title>{name}: {y:.2f} s</title></circle>')
    ly = top + 14 + 18 * len(curves)
    out.append(f'<circle cx="{w - right + 24}" cy="{ly - 4}" r="4" fill="black"/>')
    out.append(f'<text x="{w - right + 42}" y="{ly}">real runs (test bed)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# -- the whole bench ---------------------------------------------------------------------------

def _median_phases(runs: list[dict[str, Phase]], phase: str) -> tuple[float, float]:
    return (statistics.median(r[phase][0] for r in runs),
            statistics.median(r[phase][1] for r in runs))


def run(rounds: int = 3, real: bool = True, log: Callable[[str], None] = print) -> dict[
        str, float]:
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    out: dict[str, float] = {}
    addresses = [str(h["address"]) for h in json.loads(mh.HOSTS_JSON.read_text())["hosts"]]
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-model-") as tmp:
        work = Path(tmp)
        real_runs: dict[int, list[dict[str, Phase]]] = {}
        if real:
            bed = RealBed(work, log)
            with mh._one_at_a_time(log):
                whole = mh.Bed(mh.model_shape(max(CHECKED), managers_for(max(CHECKED))))
                try:
                    foreign = whole.foreign()
                finally:
                    whole.close()
                if foreign:
                    raise RuntimeError("the test hosts run containers that are not the "
                                       f"bench's ({', '.join(foreign[:5])}): run it when no "
                                       "test runs")
                log("  calibration: 2 hosts, one worker, every call recorded")
                one = bed.lab(2, 1, 2, probes=("ping h1c0 -> h2c0",))
                flat = calibrate(one, bed.channel_cost())
                two = bed.lab(2, WORKERS, rounds)
                for n in CHECKED:
                    real_runs[n] = bed.lab(n, WORKERS, rounds)
            out["model_real_2_hosts_up_s"] = _median_phases(two, "up")[0]
            out["model_real_2_hosts_verify_s"] = _median_phases(two, "verify")[0]
            for n, runs in real_runs.items():
                for p in PHASES:
                    s, ch = _median_phases(runs, p)
                    out[f"model_real_{n}_hosts_{p}_s"] = s
                    out[f"model_real_{n}_hosts_{p}_channels"] = float(ch)
            flat = fit(machine(flat), real_2_hosts(out), addresses, work, log)
            # the real figures and the costs are kept at once: a model that fails later
            # can be run again from them (--no-real)
            merge_results({**out, **flat}, RESULTS)
        else:
            flat = {k: v for k, v in previous.items() if k.startswith("model_cal_")}
            out.update({k: v for k, v in previous.items() if k.startswith("model_real_")})
            flat = fit(machine(flat), real_2_hosts(out), addresses, work, log)
        out.update(flat)
        bed_costs = se.Costs.from_flat(flat, shared=True)
        own_costs = se.Costs.from_flat(flat, shared=False)
        curves: dict[str, list[tuple[int, float]]] = {}
        hundred: list[se.Call] = []
        for costs, mode in ((bed_costs, "bed"), (own_costs, "own")):
            for n in HOSTS:
                started = time.perf_counter()
                got, _ = simulate(costs, n, addresses, work)
                log(f"  model ({'one machine' if mode == 'bed' else 'a machine per host'}) "
                    f"{n:3} host(s): " + ", ".join(
                        f"{p} {got[p][0]:.1f} s/{got[p][1]} ch" for p in PHASES)
                    + f"  ({time.perf_counter() - started:.0f} s to simulate)")
                for p in PHASES:
                    out[f"model_{mode}_{n}_hosts_{p}_s"] = got[p][0]
                    out[f"model_{mode}_{n}_hosts_{p}_channels"] = float(got[p][1])
                    curves.setdefault(f"{p} ({'test bed' if mode == 'bed' else 'own machines'})",
                                      []).append((n, got[p][0]))
                if mode == "bed" and n in real_runs:
                    out[f"model_call_mismatch_{n}_hosts"] = call_mismatch(real_runs[n][-1], got)
                    log(f"    calls that differ (real - model): "
                        f"{mismatched_kinds(real_runs[n][-1], got) or 'none'}")
                if mode == "own" and n == 100:
                    hundred = [c for p in PHASES for c in got[p][2]]
                    for p in PHASES:
                        for kind, s in sorted(where_time_goes(got[p][2]).items()):
                            out[f"model_100_{p}_engine_s_{kind}"] = s
        for n in CHECKED:
            for p in PHASES:
                want = out.get(f"model_real_{n}_hosts_{p}_s")
                if want:
                    out[f"model_error_{n}_hosts_{p}"] = abs(
                        out[f"model_bed_{n}_hosts_{p}_s"] - want) / want
                channels = out.get(f"model_real_{n}_hosts_{p}_channels")
                if channels:
                    out[f"model_channel_error_{n}_hosts_{p}"] = abs(
                        out[f"model_bed_{n}_hosts_{p}_channels"] - channels) / channels
        # the same shape at another time scale: the prediction must not move with it
        other, _ = simulate(bed_costs, 6, addresses, work, scale=SCALE * 2.5)
        drift = [abs(other[p][0] - out[f"model_bed_6_hosts_{p}_s"])
                 / out[f"model_bed_6_hosts_{p}_s"] for p in PHASES]
        out["model_scale_drift"] = max(drift)
        log(f"  scale {SCALE} against {SCALE * 2.5}: the 6-host prediction moves by "
            f"{100 * max(drift):.1f} % at most")
        del hundred
    points = {f"{p} real": [(n, out[f"model_real_{n}_hosts_{p}_s"]) for n in CHECKED
                            if f"model_real_{n}_hosts_{p}_s" in out] for p in PHASES}
    SVG.write_text(svg(curves, points))
    log(f"  wrote {SVG.relative_to(ROOT)}")
    return out


def _print(results: dict[str, float]) -> None:
    # the calibration and the 100-host breakdown are in results.json: too many for the table
    print_table({k: v for k, v in sorted(results.items())
                 if not k.startswith(("model_cal_", "model_100_"))}, TARGETS, width=44)


def main(results_path: Path = RESULTS, rounds: int = 3, real: bool = True) -> dict[str, float]:
    started = time.perf_counter()
    source = ("calibrated on the test bed now" if real
              else "calibration from bench/results.json")
    print(f"model of 1-100 hosts ({source}), checked against {CHECKED} real hosts")
    results = run(rounds, real)
    merge_results(results, results_path)
    _print(results)
    print(f"wrote {results_path.relative_to(ROOT)} (model part: "
          f"{time.perf_counter() - started:.0f} s)")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="real rounds per lab")
    parser.add_argument("--no-real", action="store_true",
                        help="no test bed: the calibration and real figures of "
                             "bench/results.json")
    args = parser.parse_args()
    main(rounds=args.rounds, real=not args.no_real)
