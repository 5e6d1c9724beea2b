"""Issue 12, graph: `dnetlab graph` of a 200-container lab over three hosts, from the
file alone (no engine), the whole process, for each format.

- `graph_200_s` (target < 1 s): `dnetlab graph big.yaml --format html -o ...`, the
  median over the rounds; the other formats are reported beside it
  (`graph_200_FORMAT_s`).

    .venv/bin/python bench/graph_bench.py [ROUNDS]     (no engine needed)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import DNETLAB, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.unit.graph.biglab import big_lab  # one generator for the bench and the tests

TARGETS = {"graph_200_s": ("<", 1.0)}


def run(rounds: int = 5) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-graph-") as tmp:
        d = Path(tmp)
        (d / "big.yaml").write_text(big_lab(200, "bench-graph"))
        for fmt in ("html", "mermaid", "dot", "json"):
            times = [run_cli([DNETLAB, "graph", "big.yaml", "--format", fmt, "-o",
                              f"out.{fmt}"], d)[0] for _ in range(rounds)]
            results[f"graph_200_{fmt}_s"] = statistics.median(times)
    results["graph_200_s"] = results.pop("graph_200_html_s")
    return results


if __name__ == "__main__":
    for key, value in run(int(sys.argv[1]) if len(sys.argv) > 1 else 5).items():
        print(f"{key:24} {value:8.3f}")
