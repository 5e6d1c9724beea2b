"""Issue 9: hard limits. `dnetlab validate` of 10,000 networks, of a large valid lab (issue 13:
2,000 containers, 40 networks, 4,000 probes), and the worst time and peak
memory of `dnetlab validate` over the whole hostile corpus (tests/hostile: the committed
files, the large ones that tests/hostile/generate.py makes, a FIFO, a directory and
/dev/zero). No engine is needed: `bench/run.py --only validate` runs this alone.

Each figure is a CLI run in a fresh process, timed from spawn to exit, its peak RSS from
wait4's rusage (which counts the forked template renderer). The corpus runs one file at
a time, so that no file is measured while another competes for the cores.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import DNETLAB, ROOT

sys.path.insert(0, str(ROOT))

from tests.hostile.generate import CASES, lab_2000, networks_10k

TARGETS = {
    "validate_10k_networks_s": ("<=", 2.0),
    "validate_2000_containers_s": ("<", 1.0),
    "validate_hostile_max_s": ("<=", 2.0),
    "validate_hostile_max_rss_mb": ("<=", 300.0),
}


def validate(path: str, cwd: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS in MB and exit code of `dnetlab validate PATH`."""
    started = time.perf_counter()
    proc = subprocess.Popen([DNETLAB, "validate", path], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def _corpus(work: Path) -> list[str]:
    files = sorted(str(p) for p in (ROOT / "tests" / "hostile").glob("*.yaml"))
    gen = work / "generated"
    gen.mkdir()
    for make in CASES:
        c = make()
        (gen / f"{c.name}.yaml").write_bytes(c.data)
        files.append(str(gen / f"{c.name}.yaml"))
    os.mkfifo(work / "fifo.yaml")
    (work / "directory.yaml").mkdir()
    return [*files, str(work / "fifo.yaml"), str(work / "directory.yaml"), "/dev/zero"]


def run(rounds: int, say: Callable[[str], None] = print) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for key, what, make in (("validate_10k_networks_s", "10,000 networks", networks_10k),
                                ("validate_2000_containers_s",
                                 "2,000 containers, 40 networks, 4,000 probes", lab_2000)):
            path = work / f"{key}.yaml"
            path.write_bytes(make().data)
            samples, peak = [], 0.0
            for _ in range(rounds):
                seconds, rss, code = validate(str(path), work)
                if code != 0:
                    raise RuntimeError(f"validate of {what} exited {code}")
                samples.append(seconds)
                peak = max(peak, rss)
            results[key] = statistics.median(samples)
            results[key.replace("_s", "_peak_rss_mb")] = peak
            say(f"  {what}: median {results[key]:.3f} s [{min(samples):.3f} .. "
                f"{max(samples):.3f}] n={len(samples)}, peak {peak:.1f} MB")
        files = _corpus(work)
        worst_s = worst_mb = 0.0
        slowest = biggest = ""
        total = 0.0
        for f in files:
            seconds, rss, code = validate(f, work)
            if code not in (0, 2):
                raise RuntimeError(f"validate {f} exited {code}")
            total += seconds
            if seconds > worst_s:
                worst_s, slowest = seconds, f
            if rss > worst_mb:
                worst_mb, biggest = rss, f
        results["validate_hostile_max_s"] = worst_s
        results["validate_hostile_max_rss_mb"] = worst_mb
        results["validate_hostile_files"] = float(len(files))
        results["validate_hostile_mean_s"] = total / len(files)
        say(f"  hostile corpus: {len(files)} files, mean {total / len(files):.3f} s; slowest "
            f"{Path(slowest).name} {worst_s:.3f} s; largest {Path(biggest).name} "
            f"{worst_mb:.1f} MB")
    return results


if __name__ == "__main__":
    for key, value in run(3).items():
        print(f"{key:32} {value:10.4f}")
