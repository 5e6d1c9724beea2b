"""Issue 10, steps: what an action costs through dnetlab against the docker CLI, and how
close `recovered_after_s` comes to a known outage.

- `step_connect_disconnect_vs_cli` (target <= 1.2): a step that disconnects c2 from its
  network and connects it back with its static address, run by `dnetlab verify --steps
  --keep-state`; the two actions' own durations (as the JSON report gives them) against
  `docker network disconnect` + `docker network connect --ip` for the same container,
  each the median over the rounds. The whole `verify --steps` process (start-up, observe,
  the report) is reported beside it: `step_verify_steps_s`.
- `recovered_after_error_s` (target <= 0.5): c2 opens port 80 OUTAGE_S after it starts;
  a step restarts it and watches `tcp c1 -> c2:80`; the error is |recovered_after_s -
  OUTAGE_S| (the restart action ends when the container has started, when its
  `sleep` begins), the worst over the rounds.

    .venv/bin/python bench/steps_bench.py [ROUNDS]     (under the engine's lock)
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import DNETLAB, lab_down, lab_up, run_cli

LAB = "bench-steps"
OUTAGE_S = 3.0
WORKERS = 8
TARGETS = {
    "step_connect_disconnect_vs_cli": ("<=", 1.2),
    "recovered_after_error_s": ("<=", 0.5),
}


def scenario() -> str:
    return f"""version: 1
name: {LAB}
networks:
  lan: {{subnet: 10.244.0.0/24}}
containers:
  c1: {{image: busybox, command: sleep infinity, networks: {{lan: {{ipv4: 10.244.0.10}}}}}}
  c2:
    image: busybox
    command: ["sh", "-c", "sleep {OUTAGE_S:g}; exec httpd -f -p 80 -h /"]
    networks: {{lan: {{ipv4: 10.244.0.20}}}}
steps:
  - name: c2 leaves and comes back
    do:
      - disconnect: {{container: c2, network: lan}}
      - connect: {{container: c2, network: lan, ipv4: 10.244.0.20}}
  - name: c2 restarts
    within: 20
    do: [restart: c2]
    probes:
      - {{type: tcp, from: c1, to: c2, port: 80}}
"""


def _docker(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(["docker", *args], check=True, capture_output=True)
    return time.perf_counter() - started


def run(rounds: int = 3, log: Callable[[str], None] = print) -> dict[str, float]:
    ours: list[float] = []
    cli: list[float] = []
    whole: list[float] = []
    errors: list[float] = []
    with tempfile.TemporaryDirectory(prefix="dnetlab-bench-steps-") as tmp:
        root = Path(tmp)
        path = root / "lab.yaml"
        path.write_text(scenario())
        try:
            lab_up(str(path), root, WORKERS)
            net, c2 = f"{LAB}-lan", f"{LAB}-c2"
            for r in range(rounds):
                took, out, _ = run_cli([DNETLAB, "verify", "--steps", "--keep-state",
                                        "--format", "json", str(path)], root)
                report = json.loads(out)
                move, restart = report["steps"]
                ours.append(sum(a["duration_s"] for a in move["actions"]))
                whole.append(took)
                [probe] = restart["probes"]
                if probe["status"] != "passed" or probe["recovered_after_s"] is None:
                    raise RuntimeError(f"the restart step did not recover: {probe}")
                errors.append(abs(probe["recovered_after_s"] - OUTAGE_S))
                cli.append(_docker("network", "disconnect", net, c2)
                           + _docker("network", "connect", "--ip", "10.244.0.20", net, c2))
                log(f"  round {r + 1}/{rounds}: actions {ours[-1]:.3f} s, docker CLI "
                    f"{cli[-1]:.3f} s, verify --steps {took:.2f} s, recovered after "
                    f"{probe['recovered_after_s']:.2f} s for an outage of {OUTAGE_S:g} s")
        finally:
            lab_down(str(path), root, WORKERS)
    mine, theirs = statistics.median(ours), statistics.median(cli)
    return {"step_connect_disconnect_s": mine, "step_connect_disconnect_cli_s": theirs,
            "step_connect_disconnect_vs_cli": mine / theirs,
            "step_verify_steps_s": statistics.median(whole),
            "recovered_after_error_s": max(errors)}


if __name__ == "__main__":
    for key, value in run(int(sys.argv[1]) if len(sys.argv) > 1 else 3).items():
        print(f"{key} {value:.3f}")
