"""The formats read by the real tools: Graphviz parses the DOT, and Debian's chromium,
headless, shows the HTML of a 200-container lab with no request leaving the file, every
container and network on the page, and a screenshot that is not blank. `make test`
installs both (scripts/test-tools.sh); without them these tests fail, saying so."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dnetlab.graph import render
from dnetlab.graph.model import build
from dnetlab.load.pipeline import load
from dnetlab.load.rendered import Variables
from tests.unit.graph.biglab import big_lab

ROOT = Path(__file__).resolve().parents[3]
SEEDS = sorted((ROOT / "scenarios").glob("*.yaml"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _big(tmp_path: Path) -> Any:
    f = tmp_path / "big.yaml"
    f.write_text(big_lab(200))
    sc = load(str(f), Variables(cli={})).scenario
    name = sc.probes[0].name
    report = {"probes": [{"name": p.name, "status": "failed" if p.name == name else "passed",
                          "type": "ping", "actual": "100% loss", "runs_on": ""}
                         for p in sc.probes]}
    return build(sc, report)


def _need(tool: str | None, package: str) -> None:
    if tool is None:
        pytest.fail(f"{package} is not installed: run scripts/test-tools.sh (make test does)",
                    pytrace=False)


@pytest.mark.parametrize("seed", [*SEEDS, "big"], ids=lambda p: getattr(p, "stem", p))
def test_graphviz_parses_the_dot(seed: Any, tmp_path: Path) -> None:
    _need(shutil.which("dot"), "graphviz")
    g = _big(tmp_path) if seed == "big" else build(load(str(seed), Variables(cli={})).scenario)
    proc = subprocess.run(["dot", "-Tsvg"], input=render(g, "dot"), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in proc.stdout
    for c in g.containers:
        assert f">{c.key}</text>" in proc.stdout


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    # every host name resolves to nothing: a fetch from the page could not succeed, and a
    # page that needed one would come out incomplete
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", "--disable-extensions",
                           '--host-resolver-rules=MAP * ~NOTFOUND',
                           "--virtual-time-budget=3000", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_html_of_200_containers_in_a_real_browser(tmp_path: Path) -> None:
    from PIL import Image

    _need(CHROMIUM, "chromium")
    g = _big(tmp_path)
    html = render(g, "html")
    # one self-contained file: nothing it could fetch (no URL, no src/href, no import)
    assert not re.search(r"https?://|//cdn|\bsrc=|\bhref=|@import|url\((?!#)", html)
    page = tmp_path / "lab.html"
    page.write_text(html)
    proc = _chromium("--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    keys = set(re.findall(r'<g class="ct[^"]*" data-key="([^"]+)"', dom))
    assert keys == {c.key for c in g.containers}
    nets = set(re.findall(r'<g class="net[^"]*" data-key="([^"]+)"', dom))
    assert nets == {n.key for n in g.networks}
    assert dom.count('class="probe"') == 1
    shot = tmp_path / "lab.png"
    proc = _chromium("--window-size=1400,900", f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), proc.stderr[-2000:]
    with Image.open(shot) as img:
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 10  # boxes, text, lines: not blank
