"""`dnetlab graph`: the model from the file, each format checked by reading it back, the
last verify's report kept beside the record and drawn."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from dnetlab.graph import FORMATS, render
from dnetlab.graph.model import Graph, build
from dnetlab.lab import records
from dnetlab.load.pipeline import load
from dnetlab.load.rendered import Variables
from tests.unit.graph.biglab import big_lab
from tests.unit.graph.mermaid_parse import parse

ROOT = Path(__file__).resolve().parents[3]
SEEDS = sorted((ROOT / "scenarios").glob("*.yaml"))


def _scenario(path: Path) -> Any:
    return load(str(path), Variables(cli={})).scenario


def _big(tmp_path: Path, n: int = 200) -> Any:
    f = tmp_path / "big.yaml"
    f.write_text(big_lab(n))
    return _scenario(f)


def _report(sc: Any, failed: dict[str, str]) -> dict[str, Any]:
    """A report as verify writes it: every probe passed but those in `failed`."""
    probes = [{"name": p.name, "type": p.type, "status": failed.get(p.name, "passed"),
               "expected": "", "actual": "100% loss" if p.name in failed else "ok",
               "output": "", "duration_s": 0.1, "runs_on": "", "attempts": 1,
               "recovered_after_s": None} for p in sc.probes]
    return {"scenario": sc.name, "summary": {}, "probes": probes}


def _check_mermaid(g: Graph, text: str) -> None:
    """Every node, group and edge of the model is in the text, and nothing else."""
    p = parse(text)
    assert {h.id for h in g.hosts} == set(p.groups)
    hosts = {h.key: h.id for h in g.hosts}
    assert {c.id: (c.key, hosts[c.host]) for c in g.containers} == p.containers
    assert {n.id: (n.label, hosts[n.host] if n.host else None) for n in g.networks} \
        == p.networks
    assert sorted((a.container, a.label, a.network) for a in g.attachments) \
        == sorted(p.links)
    drawn = [x for x in g.failed_probes if x.source and x.target]
    assert sorted((x.source, f"{x.status}: {x.name}", x.target) for x in drawn) \
        == sorted(p.probes)
    assert p.classes.get("failed", set()) == {c.id for c in g.containers if c.failed}


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.stem)
def test_every_seed_round_trips_through_mermaid(seed: Path) -> None:
    g = build(_scenario(seed))
    _check_mermaid(g, render(g, "mermaid"))


def test_the_model_has_every_attachment_with_its_address() -> None:
    sc = _scenario(ROOT / "scenarios" / "isolation.yaml")
    g = build(sc)
    assert [c.key for c in g.containers] == ["c1", "c2", "c3"]
    nets = {n.id: n.key for n in g.networks}
    cs = {c.id: c.key for c in g.containers}
    got = {(cs[a.container], nets[a.network], a.address) for a in g.attachments}
    assert got == {("c1", "net1", "10.202.1.10"), ("c2", "net2", "10.202.2.10"),
                   ("c3", "net1", "10.202.1.20"), ("c3", "net2", "10.202.2.20")}
    assert all(n.host == "local" for n in g.networks)


def test_networks_across_hosts_sit_outside_the_hosts(tmp_path: Path) -> None:
    g = build(_big(tmp_path, 12))
    by_key = {n.key: n for n in g.networks}
    assert by_key["core"].host is None and by_key["lan1"].host == "h1"
    assert {h.key for h in g.hosts} == {"h1", "h2", "h3"}
    impaired = [a for a in g.attachments if a.impairment]
    assert impaired and all("delay 20ms" in a.label for a in impaired)
    _check_mermaid(g, render(g, "mermaid"))


def test_default_bridge_and_host_network_get_a_node_per_host() -> None:
    for seed, kind in (("bridge", "default-bridge"), ("host", "host")):
        g = build(_scenario(ROOT / "scenarios" / f"{seed}.yaml"))
        made = [n for n in g.networks if n.kind == kind]
        if made:
            ids = {n.id for n in made}
            assert any(a.network in ids for a in g.attachments)


def test_failed_probes_are_drawn(tmp_path: Path) -> None:
    sc = _big(tmp_path, 12)
    name = sc.probes[0].name
    g = build(sc, _report(sc, {name: "failed"}))
    assert g.verified and [p.name for p in g.failed_probes] == [name]
    failed = g.failed_probes[0]
    keys = {c.id: c.key for c in g.containers}
    assert (keys[failed.source or ""], keys[failed.target or ""]) == ("c0", "c4")
    assert [c.key for c in g.containers if c.failed] == ["c0"]
    text = render(g, "mermaid")
    _check_mermaid(g, text)
    assert parse(text).probes == [("c0", f"failed: {name}", "c4")]
    assert f"failed: {name}" in render(g, "dot")
    html = render(g, "html")
    assert 'class="probe"' in html and "100% loss" in html
    data = json.loads(render(g, "json"))
    assert data["verified"] and data["probes"][0]["status"] == "failed"


def test_a_report_not_shaped_as_verify_writes_it_is_read_leniently(tmp_path: Path) -> None:
    sc = _big(tmp_path, 6)
    for junk in ({}, {"probes": "x"}, {"probes": [1, {"name": 3}, {"status": "failed"}]},
                 {"steps": [None, {"probes": None}]}):
        assert build(sc, junk).failed_probes == ()


def test_labels_cannot_break_the_syntax(tmp_path: Path) -> None:
    f = tmp_path / "q.yaml"
    f.write_text('version: 1\nname: q\ndescription: \'a "quoted" <b>lab</b> & more\'\n'
                 "containers:\n  c1: {image: busybox}\n")
    g = build(_scenario(f))
    html = render(g, "html")
    assert "<b>lab</b>" not in html and "&lt;b&gt;" in html
    assert render(g, "dot").startswith('graph "q" {')


def test_json_holds_the_model(tmp_path: Path) -> None:
    g = build(_big(tmp_path, 9))
    data = json.loads(render(g, "json"))
    assert [c["key"] for c in data["containers"]] == [f"c{i}" for i in range(9)]
    assert {a["network"] for a in data["attachments"]} <= {n["id"] for n in data["networks"]}
    assert data["verified"] is False


def test_every_format_renders_every_seed() -> None:
    for seed in SEEDS:
        g = build(_scenario(seed))
        for fmt in FORMATS:
            assert render(g, fmt).endswith("\n")


# -- the last verify's report beside the record --------------------------------------------


def _record(tmp_path: Path, name: str) -> None:
    records.save(records.Record(name=name, scenario_path="x.yaml", rendered="", variables={},
                                vars_files=(), hosts=(), state="up", updated_at=0.0),
                 tmp_path)


def test_a_report_is_kept_only_for_a_lab_recorded_here(tmp_path: Path) -> None:
    assert records.save_report("demo", "{}", tmp_path) is None
    _record(tmp_path, "demo")
    path = records.save_report("demo", '{"scenario": "demo"}', tmp_path)
    assert path is not None and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert records.load_report("demo", tmp_path) == {"scenario": "demo"}
    assert records.names(tmp_path) == ["demo"]  # the report is no lab
    records.forget("demo", tmp_path)
    assert records.load_report("demo", tmp_path) is None


def test_a_damaged_report_is_a_clear_error(tmp_path: Path) -> None:
    _record(tmp_path, "demo")
    (tmp_path / ".dnetlab" / "demo.verify.json").write_text("{nope")
    with pytest.raises(records.UsageError, match="saved verify report"):
        records.load_report("demo", tmp_path)


# -- the command ------------------------------------------------------------------------------


def test_graph_command_writes_every_format(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed = str(ROOT / "scenarios" / "isolation.yaml")
    code, out, _ = run_cli("graph", seed)
    assert code == 0 and out.startswith("flowchart LR")
    for fmt in FORMATS:
        target = tmp_path / f"g.{fmt}"
        code, _, err = run_cli("graph", seed, "--format", fmt, "--output", str(target))
        assert code == 0, err
        assert target.read_text() == render(build(_scenario(Path(seed))), fmt)


def test_graph_draws_the_recorded_verify(run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seed = ROOT / "scenarios" / "isolation.yaml"
    sc = _scenario(seed)
    monkeypatch.chdir(tmp_path)
    _record(tmp_path, sc.name)
    name = sc.probes[0].name
    records.save_report(sc.name, json.dumps(_report(sc, {name: "failed"})))
    code, out, err = run_cli("graph", str(seed), "--format", "json")
    assert code == 0, err
    assert [p["name"] for p in json.loads(out)["probes"] if p["status"] == "failed"] == [name]
    code, out, _ = run_cli("graph", str(seed), "--format", "json", "--no-results")
    assert json.loads(out)["probes"] == []


@pytest.mark.parametrize("args,words", [
    (("graph", "/nonexistent/lab.yaml"), "lab.yaml"),
    (("graph", "--format", "png", "x.yaml"), "png"),
    (("graph", "SEED", "--output", "/nonexistent/dir/g.html"), "cannot write"),
    (("graph",), "no lab is recorded"),
])
def test_graph_errors_are_messages(run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                   monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...],
                                   words: str) -> None:
    monkeypatch.chdir(tmp_path)
    args = tuple(str(ROOT / "scenarios" / "isolation.yaml") if a == "SEED" else a
                 for a in args)
    code, _, err = run_cli(*args)
    assert code == 2 and words in err and "Traceback" not in err
