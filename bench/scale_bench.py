"""Issue 13, part 1: one host, 500 containers. The CLI's `up`, no-op `up`, `verify` and
`down` of a lab of 500 busybox containers (4 bridges, static addresses, 2 ping probes
each) against the same lab shape at 50, measured in the same run: what grows faster than
the lab shows as a cost per container (per probe for verify) larger at 500 than at 50.
Each command is a child process timed from spawn to exit, its own peak RSS from wait4.

`verify` runs the file's probes (2 per container). `--auto` adds the derived probes: every
pair of containers, 2,450 probes at 50 but 249,500 at 500 (about 25 minutes on the
project's 2-core machine), so it is measured only when asked for (`auto=True`).

Every lab starts from a clean engine and leaves nothing behind, even when a step fails:
only containers and networks labelled `dnetlab.scenario=bench-scale50` or
`bench-scale500` are removed, before and after each lab.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import lab_bench
from common import DNETLAB, Samples, medians, run_peak_rss_out, scale_scenario

SIZES = (50, 500)
NETWORKS, PROBES = 4, 2  # 2 pings per container, round its own bridge
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) errors in ", re.M)


def lab_name(n: int) -> str:
    return f"bench-scale{n}"


OWNED = [f"dnetlab.scenario={lab_name(n)}" for n in SIZES]


class Bench(Samples):
    def __init__(self, work: Path, auto: bool) -> None:
        super().__init__()
        self.work = work
        self.auto = auto
        self.engine = lab_bench.Engine(owned=OWNED)
        self.rss: dict[str, float] = {}  # the largest peak of each figure over the rounds
        self.probes: dict[int, int] = {}
        for n in SIZES:
            (work / f"lab{n}.yaml").write_text(
                scale_scenario(lab_name(n), n, NETWORKS, probes=PROBES))

    def clean_around(self) -> AbstractContextManager[None]:
        return self.engine.cleaned(self.work)

    def _cli(self, key: str, cmd: list[str], ok: tuple[int, ...] = (0,)) -> str:
        seconds, mb, out = run_peak_rss_out(cmd, self.work, ok)
        self.add(f"{key}_s", seconds)
        self.rss[f"{key}_peak_rss_mb"] = max(self.rss.get(f"{key}_peak_rss_mb", 0.0), mb)
        return out

    def lab(self, n: int) -> None:
        path, label = str(self.work / f"lab{n}.yaml"), f"dnetlab.scenario={lab_name(n)}"
        with self.clean_around():
            self._cli(f"scale_{n}_up", [DNETLAB, "up", path])
            self.engine.expect(label, n, NETWORKS, f"dnetlab up ({n})")
            self._cli(f"scale_{n}_noop_up", [DNETLAB, "up", path])
            # verify as after `up`: the lab's record; exit 1 when a probe fails
            out = self._cli(f"scale_{n}_verify",
                            [DNETLAB, "verify", *(["--auto"] if self.auto else [])], (0, 1))
            m = SUMMARY.search(out)
            if m is None:
                raise RuntimeError(f"verify ({n}): no summary line in its output")
            passed, failed, errors = (int(x) for x in m.groups())
            self.probes[n] = passed + failed + errors
            self.add(f"scale_{n}_verify_passed", float(passed))
            self.add(f"scale_{n}_verify_not_passed", float(failed + errors))
            self._cli(f"scale_{n}_down", [DNETLAB, "down", path])
            self.engine.expect(label, 0, 0, f"dnetlab down ({n})")

    def side(self, n: int) -> Callable[[], None]:
        def side() -> None:
            self.lab(n)

        side.__name__ = f"lab_{n}"
        return side


def _per_unit(out: dict[str, float], key: str, what: str, big: float,
              small: float) -> None:
    """Cost per unit (container, probe) at 500 against at 50."""
    out[key] = (out[f"scale_500_{what}_s"] / big) / (out[f"scale_50_{what}_s"] / small)


def run(rounds: int = 3, log: Callable[[str], None] = print,
        auto: bool = False) -> dict[str, float]:
    out: dict[str, float] = {}
    # a SIGTERM (a bench stopped from outside) unwinds through the clean-up below
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run(rounds, log, auto, out)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(rounds: int, log: Callable[[str], None], auto: bool,
         out: dict[str, float]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="dnetlab-scale-") as tmp:
        bench = Bench(Path(tmp), auto)
        try:
            load = [os.getloadavg()[0]]
            sides = [bench.side(n) for n in SIZES]
            for r in range(rounds):
                # the two sizes back to back, their order alternating each round
                for side in sides[r % 2:] + sides[:r % 2]:
                    started = time.perf_counter()
                    bench.attempt(side, log)
                    load.append(os.getloadavg()[0])
                    log(f"  round {r + 1}/{rounds} {side.__name__:10} "
                        f"{time.perf_counter() - started:6.1f} s")
            out = medians(bench.samples, log)
            out.update(bench.rss)
            out["scale_loadavg_1m_max"] = max(load)
        finally:
            try:
                bench.engine.clean()
            finally:
                bench.engine.close()
    _per_unit(out, "up_per_container_500_vs_50", "up", 500, 50)
    _per_unit(out, "down_per_container_500_vs_50", "down", 500, 50)
    _per_unit(out, "verify_per_probe_500_vs_50", "verify", bench.probes[500],
              bench.probes[50])
    out["noop_up_500_s"] = out["scale_500_noop_up_s"]
    out["scale_500_peak_rss_mb"] = max(v for k, v in bench.rss.items()
                                       if k.startswith("scale_500_"))
    for n in SIZES:
        out[f"scale_{n}_probes"] = float(bench.probes[n])
    return out


TARGETS = {
    "scale_500_peak_rss_mb": ("<=", 150.0),
    "up_per_container_500_vs_50": ("<=", 1.15),
    "down_per_container_500_vs_50": ("<=", 1.15),
    "verify_per_probe_500_vs_50": ("<=", 1.15),
    "noop_up_500_s": ("<", 1.5),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--auto", action="store_true",
                        help="verify --auto (249,500 probes at 500: about 25 minutes)")
    args = parser.parse_args()
    results = run(args.rounds, auto=args.auto)
    import run as bench_run

    bench_run._save(results, TARGETS)


if __name__ == "__main__":
    main()
