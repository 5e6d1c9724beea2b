"""Issue 12: `exec` fan-out over SSH. A lab of 30 busybox containers on the 3 hosts of the
project's test bed (ssh://root@ADDR from .testbed/hosts.json, 10 per host, on a bridge of
each host), then back to back, order rotating, as the CLI runs them:

- `dnetlab exec --all -- hostname`: one command in the 30 containers;
- `dnetlab verify` of one `exec` probe per container (`hostname`, in that container);

medians over rounds, and `exec_all_30_vs_verify` = exec / verify (target <= 1.2). Both
send one SSH command per host (`hostexec`); the ratio says the fan-out costs no more
than the probes it mirrors.

Run by `bench/run.py` (skip with `--no-multihost`), or alone:
`.venv/bin/python bench/exec_bench.py [--rounds N]`.

Clean-up discipline as `multihost_bench` (its lock, its `Bed`): on the test hosts only
objects labelled `dnetlab.scenario=bench-mh` are removed, before and after, and the bench
stops before changing anything when a host runs containers that are not the bench's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from common import medians, merge_results, print_table, run_cli
from multihost_bench import (
    DNETLAB,
    LAB,
    N_HOSTS,
    PER_HOST,
    RESULTS,
    ROOT,
    TIMEOUT,
    Bed,
    N,
    _one_at_a_time,
)

TARGETS = {"exec_all_30_vs_verify": ("<=", 1.2)}


def _key(h: int, j: int) -> str:
    return f"h{h}c{j}"


def scenario(addresses: list[str]) -> str:
    lines = ["version: 1", f"name: {LAB}", "hosts:"]
    lines += [f"  h{h}: {{engine: 'ssh://root@{addresses[h - 1]}'}}"
              for h in range(1, N_HOSTS + 1)]
    hosts = ", ".join(f"h{h}" for h in range(1, N_HOSTS + 1))
    lines += ["networks:", f"  lan: {{subnet: 10.243.0.0/24, hosts: [{hosts}]}}",
              "containers:"]
    lines += [f"  {_key(h, j)}: {{host: h{h}, image: busybox, command: sleep infinity, "
              f"networks: {{lan: {{ipv4: 10.243.0.{10 * h + j}}}}}}}"
              for h in range(1, N_HOSTS + 1) for j in range(PER_HOST)]
    lines.append("probes:")
    lines += [f"  - {{type: exec, on: {_key(h, j)}, command: [hostname], "
              f"stdout_contains: {_key(h, j)}}}"
              for h in range(1, N_HOSTS + 1) for j in range(PER_HOST)]
    return "\n".join(lines) + "\n"


def _cli(work: Path, *args: str) -> tuple[float, str, str]:
    if args[0] in ("up", "verify"):  # remote engines are asks: approved for the run
        args = (args[0], "--trust", *args[1:])
    return run_cli([DNETLAB, *args], work, TIMEOUT)


def _exec_all(work: Path) -> float:
    seconds, out, _ = _cli(work, "exec", "--all", "--format", "json", "--", "hostname")
    got = json.loads(out)
    bad = [r for r in got if r["exit_code"] != 0 or r["output"] != f"{r['container']}\n"]
    if len(got) != N or bad:
        raise RuntimeError(f"exec --all: {len(got)} results, wrong: {bad[:3]}")
    return seconds


def _verify(work: Path) -> float:
    seconds, out, _ = _cli(work, "verify", "--format", "json")
    probes = json.loads(out)["probes"]
    bad = [p for p in probes if p["status"] != "passed"]
    if len(probes) != N or bad:
        raise RuntimeError(f"verify: {len(probes)} probes, not passed: {bad[:3]}")
    return seconds


def run(rounds: int = 5, log: Callable[[str], None] = print) -> dict[str, float]:
    with _one_at_a_time(log):
        return _run_locked(rounds, log)


def _run_locked(rounds: int, log: Callable[[str], None]) -> dict[str, float]:
    bed = Bed()
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-exec-") as tmp:
        work = Path(tmp)
        lab = work / "bench-exec.yaml"
        lab.write_text(scenario(bed.addresses))
        try:
            foreign = bed.foreign()
            if foreign:
                raise RuntimeError("the test hosts run containers that are not the bench's "
                                   f"({', '.join(foreign[:5])}): the bench needs the bed "
                                   "to itself")
            bed.reset(images=False)
            started = time.perf_counter()
            _cli(work, "up", str(lab))
            log(f"  lab of {N} containers on {N_HOSTS} hosts up in "
                f"{time.perf_counter() - started:.1f} s (not timed)")
            _exec_all(work)  # warm-up of both sides: not timed
            _verify(work)
            sides = [("exec_all_30_s", _exec_all), ("verify_30_exec_probes_s", _verify)]
            for r in range(rounds):
                for key, side in sides[r % 2:] + sides[:r % 2]:
                    samples.setdefault(key, []).append(side(work))
                log(f"  round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}"
                                                     for k, v in samples.items()))
        finally:
            with suppress(Exception):
                run_cli([DNETLAB, "down"], work, TIMEOUT)
            bed.reset(images=False)
            bed.close()
    out = medians(samples, log)
    out["exec_all_30_vs_verify"] = out["exec_all_30_s"] / out["verify_30_exec_probes_s"]
    return out


def main(results_path: Path = RESULTS, rounds: int = 5) -> dict[str, float]:
    """Run, merge the figures into bench/results.json, print them."""
    if rounds < 3:
        raise ValueError("at least 3 rounds (the figures are medians)")
    print(f"exec fan-out ({N_HOSTS} test hosts, {N} containers): {rounds} round(s)")
    results = run(rounds)
    merge_results(results, results_path)
    print_table(results, TARGETS)
    print(f"wrote {results_path.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (at least 3)")
    main(rounds=parser.parse_args().rounds)
