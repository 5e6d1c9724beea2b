"""Docker's own networking tutorials as scenarios (scenarios/docker-docs/): each validates
clean (no warning but its asks, each located), starts with the schema modeline for its
folder, has probes, asks exactly what its tutorial needs, and plans to nothing once
deployed. The seeds' tests glob scenarios/*.yaml only: this covers the subfolder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dnetlab.load.pipeline import load
from tests.unit.reconcile.test_plan import assert_converges, deploy, empty_engine, plan_for

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "scenarios" / "docker-docs"
FILES = sorted(DOCS.glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema=../../schemas/scenario.schema.json"


def _remote(hosts: tuple[tuple[str, str], ...]) -> list[str]:
    return ([f"remote-engine: host {h} is the Docker engine at ssh://root@{a}: dnetlab "
             "connects to it and changes it" for h, a in hosts]
            + [f"image-copy: image busybox may be copied from the local engine to host {h} "
               "(docker save here, docker load there) when that host lacks it"
               for h, _ in hosts])


def _host_exec(probe: str, host: str) -> str:
    return (f"host-exec: probe \"{probe}\" runs a command in the network namespace of host "
            f"{host} (in a helper container of image busybox)")


# What each tutorial asks of the machine (spec 10.4), and nothing more.
ASKS = {
    "host": ["host-network: container my-httpd uses the host's network namespace",
             _host_exec("the host's own localhost serves the page (step 2)", "local"),
             _host_exec("the host's netstat lists the port as listening (step 3)", "local")],
    "overlay": _remote((("host1", "10.99.0.1"), ("host2", "10.99.1.2"))),
    "macvlan": _remote((("docker-host", "10.99.0.3"), ("lan-host", "10.99.0.1"))),
    "macvlan-8021q": _remote((("docker-host", "10.99.0.3"),)),
}


def test_the_tutorials_are_there() -> None:
    assert set(ASKS) <= {p.stem for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tutorial_validates_clean(path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", str(path))
    assert code == 0, err
    assert out.startswith(f"{path}: ok:")
    lines = err.splitlines()
    assert all(": warning: asks: " in line for line in lines), err
    if path.stem in ASKS:
        assert [a.key() for a in load(str(path)).asks] == ASKS[path.stem]
        assert len(lines) == len(ASKS[path.stem])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tutorial_starts_with_schema_modeline(path: Path) -> None:
    assert path.read_text().splitlines()[0] == MODELINE
    assert (path.parent / "../../schemas/scenario.schema.json").resolve().is_file()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tutorial_has_probes_and_a_link_to_its_page(path: Path) -> None:
    sc = load(str(path)).scenario
    assert sc.probes
    assert "https://docs.docker.com/engine/network/tutorials/" in (sc.description or "")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tutorial_deployed_is_up_to_date_and_converges(path: Path) -> None:
    sc = load(str(path)).scenario
    assert plan_for(sc, deploy(sc)).empty
    assert_converges(sc, empty_engine(sc))


def test_every_probe_is_named_after_what_the_tutorial_shows() -> None:
    """A report reads as the tutorial: each probe of these files has a name of its own."""
    for path in FILES:
        if path.stem not in ASKS:
            continue
        probes = yaml.safe_load(path.read_text())["probes"]
        assert all(p.get("name") for p in probes), path.stem
