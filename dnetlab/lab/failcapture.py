"""`verify --capture-failed DIR`: each failed probe's source container is captured while
the probe is tried once more, so the packets of a failure can be read afterwards
(Wireshark, tcpdump -r). The capture is `dnetlab capture`'s, with its helper; the retry
is verify's own, for that probe alone. The verdict in the report stays the first one:
the capture shows a second try of the same probe, not the one judged."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from dnetlab.engine.engine import Engine
from dnetlab.errors import DnetlabError
from dnetlab.lab.capture import capture
from dnetlab.lab.progress import PlainReporter
from dnetlab.labels import Owner
from dnetlab.model import Scenario
from dnetlab.probes.base import Resolved
from dnetlab.probes.registry import Probe
from dnetlab.verify.outcome import ProbeResult
from dnetlab.verify.runner import LiveLab, Verifier

CAPTURE_S = 8.0  # long enough for the helper to start and a probe's retry to end
START_S = 2.0  # the helper's start and tcpdump's first packet filter, before the retry
PARALLEL = 4  # captures at once: each is a helper container on the probe's host


def _file_name(n: int, probe: str) -> str:
    return f"{n:03d}-{re.sub(r'[^A-Za-z0-9._-]+', '_', probe).strip('_')[:60]}.pcap"


def capture_failed(sc: Scenario, engines: Mapping[str, Engine], lab: LiveLab, owner: Owner,
                   resolved: Sequence[Resolved[Probe] | ProbeResult],
                   results: Sequence[ProbeResult], directory: Path,
                   stop: threading.Event | None = None) -> list[ProbeResult]:
    """`results` with `capture` set on each failed probe that ran in a lab container (a
    probe on a host, or one that could not run, has nothing to capture)."""
    todo = [n for n, (r, res) in enumerate(zip(resolved, results, strict=True))
            if res.status == "failed" and not isinstance(r, ProbeResult)
            and res.runs_on in lab.containers]
    if not todo:
        return list(results)
    directory.mkdir(parents=True, exist_ok=True)

    def one(n: int) -> ProbeResult:
        item = resolved[n]
        assert not isinstance(item, ProbeResult)
        path = directory / _file_name(n + 1, results[n].name)
        failure: list[BaseException] = []
        with path.open("wb") as out:
            def sink(data: bytes) -> None:
                out.write(data)

            def run() -> None:
                try:
                    capture(sc, results[n].runs_on, sink, PlainReporter(quiet=True),
                            duration=CAPTURE_S)
                except (DnetlabError, OSError) as exc:
                    failure.append(exc)

            taking = threading.Thread(target=run, daemon=True)
            taking.start()
            time.sleep(START_S)
            # the same probe, once, with no `within`: the packets of one try
            once = replace(item, probe=replace(item.probe, within=0.0))
            Verifier(sc, engines, lab, workers=1, stop=stop, owner=owner).run([once])
            taking.join(CAPTURE_S + 30)
        if failure or path.stat().st_size <= 24:  # nothing past the pcap header
            path.unlink(missing_ok=True)
            return results[n]
        return replace(results[n], capture=str(path))

    out = list(results)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for n, res in zip(todo, pool.map(one, todo), strict=True):
            out[n] = res
    return out
