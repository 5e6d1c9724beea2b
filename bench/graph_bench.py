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

from common import run_cli

DNETLAB = [sys.executable, "-m", "dnetlab"]
TARGETS = {"graph_200_s": ("<", 1.0)}
HOSTS = ("h1", "h2", "h3")


def scenario(n: int = 200) -> str:
    """The shape of tests/unit/graph/biglab.py: a bridge per host, an overlay across the
    hosts that every fourth container joins, an impairment on every tenth attachment."""
    lines = ["version: 1", "name: bench-graph", "hosts:",
             "  h1: {engine: 'ssh://root@10.99.0.1', swarm: manager, "
             "advertise_addr: 10.99.0.1}",
             "  h2: {engine: 'ssh://root@10.99.1.2', swarm: worker}",
             "  h3: {engine: 'ssh://root@10.99.0.3', swarm: worker}",
             "networks:", "  core: {driver: overlay, subnet: 10.60.0.0/22}"]
    lines += [f"  lan{i}: {{subnet: 10.50.{i}.0/24, hosts: [{h}]}}"
              for i, h in enumerate(HOSTS, start=1)]
    lines.append("containers:")
    for i in range(n):
        host = i % len(HOSTS) + 1
        nets = [f"lan{host}: {{ipv4: 10.50.{host}.{10 + i // len(HOSTS)}"
                + (", impair: {delay: 20}" if i % 10 == 0 else "") + "}"]
        if i % 4 == 0:
            nets.append(f"core: {{ipv4: 10.60.{i // 200}.{10 + i % 200}}}")
        lines.append(f"  c{i}: {{image: busybox, host: h{host}, command: sleep infinity, "
                     f"networks: {{{', '.join(nets)}}}}}")
    lines += ["probes:", "  - {type: ping, from: c0, to: c4}"]
    return "\n".join(lines) + "\n"


def run(rounds: int = 5) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-graph-") as tmp:
        d = Path(tmp)
        (d / "big.yaml").write_text(scenario())
        for fmt in ("html", "mermaid", "dot", "json"):
            times = [run_cli([*DNETLAB, "graph", "big.yaml", "--format", fmt, "-o",
                              f"out.{fmt}"], d)[0] for _ in range(rounds)]
            results[f"graph_200_{fmt}_s"] = statistics.median(times)
    results["graph_200_s"] = results.pop("graph_200_html_s")
    return results


if __name__ == "__main__":
    for key, value in run(int(sys.argv[1]) if len(sys.argv) > 1 else 5).items():
        print(f"{key:24} {value:8.3f}")
