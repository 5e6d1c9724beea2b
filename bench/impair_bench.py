"""Issue 10: applying one impairment to 20 attachments. A lab of 20 busybox containers on
one bridge is brought up without impairments (not timed); then, each round, the file gives
the network `impair: {rate: 10mbit}` and `up` is timed (it reads the namespaces back,
plans 20 `impair` ops and runs one helper container per attachment), and the impairment
is taken away again (not timed). Reported, no target: `impair_apply_s`, the median.

    .venv/bin/python bench/impair_bench.py [ROUNDS]     (under the engine's lock)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import lab_down, lab_up

LAB = "bench-impair20"
N = 20
WORKERS = 8


def scenario(impair: bool) -> str:
    extra = ", impair: {rate: 10mbit}" if impair else ""
    lines = ["version: 1", f"name: {LAB}", "networks:",
             f"  net: {{subnet: 10.243.0.0/24{extra}}}", "containers:"]
    for i in range(N):
        lines.append(f"  c{i}: {{image: busybox, command: sleep infinity, "
                     f"networks: {{net: {{ipv4: 10.243.0.{10 + i}}}}}}}")
    return "\n".join(lines) + "\n"


def run(rounds: int = 3, log: Callable[[str], None] = print) -> dict[str, float]:
    samples: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-impair-") as tmp:
        root = Path(tmp)
        path = root / "lab.yaml"
        path.write_text(scenario(False))
        try:
            lab_up(str(path), root, WORKERS)
            for r in range(rounds):
                path.write_text(scenario(True))
                started = time.perf_counter()
                res = lab_up(str(path), root, WORKERS)
                took = time.perf_counter() - started
                ops = sum(1 for op in res.plan.ops if op.action == "impair")
                if ops != N:
                    raise RuntimeError(f"expected {N} impair ops, the plan had {ops}")
                samples.append(took)
                log(f"  round {r + 1}/{rounds}: impairment applied to {N} attachments in "
                    f"{took:.3f} s")
                path.write_text(scenario(False))
                lab_up(str(path), root, WORKERS)  # healed: not timed
        finally:
            lab_down(str(path), root, WORKERS)
    return {"impair_apply_s": statistics.median(samples)}


if __name__ == "__main__":
    out = run(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
    print(f"impair_apply_s {out['impair_apply_s']:.3f}")
