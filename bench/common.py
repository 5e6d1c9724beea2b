"""What the benchmarks share: timing a child process or a call, and keeping a side's
figures only when the whole side succeeded (the engine is shared: an attempt that
something else disturbed is discarded and run again)."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent


def _user_bin() -> Path:
    """The bin/ of what a user gets: dnetlab's wheel installed, not editable, in a venv of
    its own (`make wheel`; `make bench` passes it as DNETLAB_USER_VENV). Its modules were
    byte-compiled by pip at install; the dev venv's editable checkout is not what users
    run, and where PYTHONDONTWRITEBYTECODE is set (this machine) it compiles dnetlab's
    sources at every start: 50-70 ms of a CLI run that no user pays."""
    venv = Path(os.environ.get("DNETLAB_USER_VENV") or ROOT / ".venv-user").absolute()
    if not (venv / "bin" / "dnetlab").is_file():
        raise SystemExit(f"bench: no dnetlab installed from the wheel in {venv}; run "
                         "`make wheel` (or `make bench`, which does)")
    return venv / "bin"


USER_BIN = _user_bin()
DNETLAB = str(USER_BIN / "dnetlab")  # the console script the wheel installs
# Its interpreter, for the hand-written references (bench/floor.py): the same Python and
# the same SDK as the dnetlab they are compared with.
USER_PYTHON = str(USER_BIN / "python")


def merge_results(figures: dict[str, float], path: Path) -> None:
    """Merge into bench/results.json: the figures of parts not run this time are kept."""
    import json

    previous = json.loads(path.read_text()) if path.exists() else {}
    previous.update({k: round(v, 4) for k, v in figures.items()})
    path.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")


def print_table(results: dict[str, float], targets: dict[str, tuple[str, float]],
                width: int = 32) -> None:
    """Each figure with its target (`<=` or `<`) and whether it was met."""
    print(f"{'measure':{width}} {'value':>10}  target")
    for key, value in results.items():
        op, bound = targets.get(key, ("", None))
        verdict = ""
        if bound is not None:
            ok = value <= bound if op == "<=" else value < bound
            verdict = f"{op} {bound}  {'met' if ok else 'MISSED'}"
        print(f"{key:{width}} {value:10.4f}  {verdict}")


def run_cli(cmd: list[str], cwd: Path, timeout: float | None = None,
            explain: Callable[[str], str] | None = None) -> tuple[float, str, str]:
    """Seconds from spawn to exit, stdout, stderr; a non-zero exit raises with its output,
    or with what `explain` makes of its stdout when given."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0 and explain is not None:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: "
                           f"{explain(proc.stdout)}\n{proc.stderr[-2000:]}")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")
    return elapsed, proc.stdout, proc.stderr


def run_peak_rss(cmd: list[str], cwd: Path,
                 ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process, from its own rusage (wait4:
    RUSAGE_CHILDREN would give the largest of all earlier children). An exit status not
    in `ok` raises with its output."""
    seconds, mb, _ = run_peak_rss_out(cmd, cwd, ok)
    return seconds, mb


def run_peak_rss_out(cmd: list[str], cwd: Path,
                     ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """`run_peak_rss` and the child's stdout (read through a file: a pipe that the child
    fills while nobody reads would stall it)."""
    import tempfile

    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
        out.seek(0)
        text = out.read().decode(errors="replace")
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n"
                           f"{(text + err.decode(errors='replace'))[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024, text  # Linux: ru_maxrss is in KiB


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


class Samples:
    """Figures by key, over the rounds. A side adds to `pending`; `attempt` keeps them
    only if the side (and its check) succeeded."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}
        self.pending: dict[str, list[float]] = {}

    def add(self, key: str, seconds: float) -> None:
        self.pending.setdefault(key, []).append(seconds)

    def attempt(self, side: Callable[[], None], log: Callable[[str], None], tries: int = 3,
                check: Callable[[str], None] | None = None,
                recover: Callable[[], None] | None = None) -> None:
        """Run one side; a failed attempt is discarded (after `recover`, not timed) and
        the side run again, up to `tries` times."""
        for n in range(1, tries + 1):
            self.pending = {}
            try:
                side()
                if check is not None:
                    check(side.__name__)
            except Exception as exc:
                if n == tries:
                    raise
                lines = [ln for ln in str(exc).splitlines() if ln.strip()] or [repr(exc)]
                why = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1].strip()}"
                log(f"  {side.__name__}: attempt {n} discarded ({why})")
                if recover is not None:
                    recover()
                continue
            for key, values in self.pending.items():
                self.samples.setdefault(key, []).extend(values)
            return


def medians(samples: dict[str, list[float]], log: Callable[[str], None]) -> dict[str, float]:
    """The median of each figure, each logged with its range."""
    out: dict[str, float] = {}
    for key, v in sorted(samples.items()):
        out[key] = statistics.median(v)
        log(f"  {key:28} median {out[key]:7.3f} s  [{min(v):.3f} .. {max(v):.3f}]  n={len(v)}")
    return out


def check_workers(workers: int, where: str) -> None:
    """A bench's own worker count must be dnetlab's default: both sides run as wide."""
    from dnetlab.lab.session import DEFAULT_WORKERS

    if workers != DEFAULT_WORKERS:
        raise RuntimeError(f"dnetlab's default workers is now {DEFAULT_WORKERS}; set "
                           f"{where} WORKERS to match")


def lab_up(path: str, root: Path, workers: int) -> Any:
    """`dnetlab.lab.up.up` as the CLI does it past its imports: load, then up; a failed step
    raises."""
    from dnetlab.lab.up import up
    from dnetlab.load.pipeline import load

    result = up(load(path), workers=workers, record_root=root)
    if result.applied is not None and not result.applied.ok:
        raise RuntimeError(f"dnetlab.lab.up.up failed: {result.applied.failed[:3]}")
    return result


def lab_down(path: str, root: Path, workers: int) -> Any:
    """`dnetlab.lab.down.down` of the lab in `path`, on every host it may live on."""
    from dnetlab.lab.down import down, hosts_for
    from dnetlab.load.pipeline import load

    sc = load(path).scenario
    result = down(sc.name, hosts_for(sc.name, sc, root), workers=workers, record_root=root)
    if result.applied is not None and not result.applied.ok:
        raise RuntimeError(f"dnetlab.lab.down.down failed: {result.applied.failed[:3]}")
    return result


def scale_scenario(name: str, containers: int, networks: int = 4, probes: int = 0) -> str:
    """A lab `name` of `containers` busybox containers (`sleep infinity`) with a static
    address each, round-robin on `networks` bridges 10.241.0.0/22, 10.241.4.0/22, ...;
    with `probes`, each container pings that many of the next containers on its own
    bridge (count 1). The one generator of the scale labs (issue 3's 200, issue 13's 50
    and 500)."""
    lines = ["version: 1", f"name: {name}", "networks:"]
    for n in range(networks):
        lines.append(f"  net{n}: {{subnet: 10.241.{4 * n}.0/22, gateway: 10.241.{4 * n}.1}}")
    lines.append("containers:")
    for c in range(containers):
        n, i = c % networks, c // networks
        lines.append(f"  c{c}: {{image: busybox, command: sleep infinity, "
                     f"networks: {{net{n}: {{ipv4: 10.241.{4 * n + i // 250}.{10 + i % 250}}}}}}}")
    if probes:
        lines.append("probes:")
        members = [list(range(n, containers, networks)) for n in range(networks)]
        for c in range(containers):
            ring = members[c % networks]  # round its own bridge's containers
            for k in range(1, probes + 1):
                target = ring[(c // networks + k) % len(ring)]
                lines.append(f"  - {{type: ping, from: c{c}, to: c{target}, count: 1}}")
    return "\n".join(lines) + "\n"
