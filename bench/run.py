"""dnetlab benchmarks: each figure is a ratio against a reference measured in the same run.

Run with `make bench`. Prints a table and writes bench/results.json. Targets are checked
here and reported, never asserted in the test suite (timing there would be flaky).
`--only validate` runs the measures that need no engine (validation and the hard limits
of issue 9), while another bench or the test suite has the engine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import DNETLAB, ROOT, USER_PYTHON, merge_results, print_table

RESULTS = ROOT / "bench" / "results.json"


def _median_seconds(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def big_scenario(containers: int = 200, networks: int = 4) -> str:
    """A lab of `containers` busybox containers with static IPs spread over bridges."""
    lines = ["version: 1", "name: bench-big", "networks:"]
    for n in range(networks):
        lines.append(f"  net{n}: {{subnet: 10.{180 + n}.0.0/22, gateway: 10.{180 + n}.0.1}}")
    lines.append("containers:")
    for c in range(containers):
        n = c % networks
        lines += [
            f"  c{c}:",
            "    image: busybox",
            "    command: sleep infinity",
            "    networks:",
            f"      net{n}: {{ipv4: 10.{180 + n}.{(c // 200)}.{10 + c % 200}, aliases: [s{c}]}}",
        ]
    lines.append("probes:")
    for c in range(0, containers - networks, networks):
        lines.append(f"  - {{type: ping, from: c{c}, to: c{c + networks}}}")
    return "\n".join(lines) + "\n"


def bench_startup(rounds: int) -> dict[str, float]:
    ref = _median_seconds(lambda: _run([USER_PYTHON, "-c", "import click"]), rounds)
    help_s = _median_seconds(lambda: _run([DNETLAB, "--help"]), rounds)
    bare = _median_seconds(lambda: _run([USER_PYTHON, "-c", "pass"]), rounds)
    return {"python_bare_s": bare, "import_click_s": ref, "help_s": help_s,
            "help_vs_import_click": help_s / ref}


def bench_validate(rounds: int) -> dict[str, float]:
    from dnetlab.load.pipeline import load

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(big_scenario())
        in_process = _median_seconds(lambda: load(str(path)), rounds)
        cli = _median_seconds(lambda: _run([DNETLAB, "validate", str(path)]),
                              rounds)
    return {"validate_200_in_process_s": in_process, "validate_200_cli_s": cli}


def _save(results: dict[str, float], targets: dict[str, tuple[str, float]]) -> None:
    """Merge into bench/results.json (figures of parts not run are kept), print."""
    merge_results(results, RESULTS)
    print_table(results, targets)
    print(f"wrote {RESULTS.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", nargs="?", type=int, default=15,
                        help="rounds of the start-up measures (issue 2)")
    parser.add_argument("--lab-rounds", type=int, default=3,
                        help="rounds of the up/down measures against the engine (issue 3)")
    parser.add_argument("--no-lab", action="store_true", help="skip the issue-3 measures")
    parser.add_argument("--verify-rounds", type=int, default=5,
                        help="rounds of the verify measures against the engine (issue 4)")
    parser.add_argument("--no-verify", action="store_true", help="skip the issue-4 measures")
    parser.add_argument("--no-impair", action="store_true",
                        help="skip the issue-10 measure (impairments on 20 attachments)")
    parser.add_argument("--no-steps", action="store_true",
                        help="skip the issue-10 step measures (actions, recovered_after_s)")
    parser.add_argument("--no-scale", action="store_true",
                        help="skip the issue-13 measures (labs of 500 and 50 containers)")
    parser.add_argument("--scale-rounds", type=int, default=3,
                        help="rounds of the issue-13 measures")
    parser.add_argument("--no-multihost", action="store_true",
                        help="skip the issue-5 and issue-12 measures (the test bed's "
                             "hosts)")
    parser.add_argument("--no-model", action="store_true",
                        help="skip the issue-13 model of 1-100 hosts (calibrated on the "
                             "test bed, checked against real 3- and 6-host labs)")
    parser.add_argument("--only", choices=["validate"],
                        help="only these measures: validate = validation, the hard limits "
                             "and graph (issues 2, 9 and 12), no engine needed")
    args = parser.parse_args()
    if args.verify_rounds < 3:
        parser.error("--verify-rounds: at least 3 (the figures are medians)")
    results: dict[str, float] = {}
    targets: dict[str, tuple[str, float]] = {
        "help_vs_import_click": ("<=", 1.5),
        "validate_200_cli_s": ("<", 1.0),
    }
    if args.only is None:
        results.update(bench_startup(args.rounds))
    results.update(bench_validate(max(3, args.rounds // 3)))
    import limits_bench

    print("hard limits: 10,000 networks, and the hostile corpus one file at a time")
    results.update(limits_bench.run(max(3, args.rounds // 3)))
    targets.update(limits_bench.TARGETS)
    import graph_bench

    print("graph: `dnetlab graph` of a 200-container lab from the file (no engine)")
    results.update(graph_bench.run(max(3, args.rounds // 3)))
    targets.update(graph_bench.TARGETS)
    if args.only is not None:
        _save(results, targets)
        return
    if not args.no_lab:
        import lab_bench

        print(f"reconcile on one host: {args.lab_rounds} round(s) of every side")
        results.update(lab_bench.run(args.lab_rounds))
        targets.update(lab_bench.TARGETS)
    if not args.no_verify:
        import verify_bench

        print(f"verify in one lab: {args.verify_rounds} round(s) of every side")
        results.update(verify_bench.run(args.verify_rounds))
        targets.update(verify_bench.TARGETS)
    if not args.no_impair:
        import impair_bench

        print("impairments: one impairment applied to 20 attachments (reported, no target)")
        results.update(impair_bench.run())
    if not args.no_steps:
        import steps_bench

        print("steps: disconnect + connect against the docker CLI, recovered_after_s")
        results.update(steps_bench.run())
        targets.update(steps_bench.TARGETS)
    if not args.no_scale:
        import scale_bench

        print(f"scale: 500 and 50 containers on one host, {args.scale_rounds} round(s)")
        results.update(scale_bench.run(args.scale_rounds))
        targets.update(scale_bench.TARGETS)
    _save(results, targets)
    if not args.no_multihost:
        import multihost_bench

        multihost_bench.main(RESULTS)
        import exec_bench

        exec_bench.main(RESULTS)
    if not args.no_model and not args.no_multihost:
        import model_bench

        model_bench.main(RESULTS)


if __name__ == "__main__":
    main()
