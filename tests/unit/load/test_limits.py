"""Hard limits (issue 9): each case of the issue as a test, in process.

The whole CLI against the hostile corpus, with time and memory bounds, is in
tests/hostile/; these pin each limit and its message.
"""

from __future__ import annotations

import ipaddress
import random
import time
from typing import Any

import pytest

from dnetlab.errors import Issue, ScenarioInvalid, shown
from dnetlab.load import limits, yamlload
from dnetlab.load.build import Broken, Builder
from dnetlab.load.findings import Findings, dotted
from dnetlab.load.pipeline import parse
from dnetlab.load.rendered import Rendered
from dnetlab.load.semantic import Checker
from dnetlab.load.source import Source
from dnetlab.model import Network, Scenario

HEAD = "version: 1\nname: lab\n"


def _parse(text: str) -> list[str]:
    """The formatted issues of a text (empty when it is valid)."""
    src = Source("t.yaml", text)
    lines = len(text.splitlines()) + 1
    try:
        parse(Rendered(src, text, {i: i for i in range(1, lines + 1)}, {}))
    except ScenarioInvalid as exc:
        return [i.format() for i in exc.issues]
    return []


def _one(text: str) -> str:
    issues = _parse(text)
    assert issues, "expected an error"
    return issues[0]


# -- semantic checks are n log n --------------------------------------------------------

def test_ten_thousand_networks_validate_in_a_fraction_of_a_second() -> None:
    nets = "".join(f"  n{i}: {{subnet: 10.{i // 256}.{i % 256}.0/24}}\n" for i in range(10_000))
    started = time.perf_counter()
    assert _parse(HEAD + "networks:\n" + nets + "containers:\n  a: {image: b}\n") == []
    assert time.perf_counter() - started < 5  # 171 s before; about 0.5 s now


def _old_overlaps(nets: list[Network]) -> set[tuple[str, str]]:
    """The pairwise check as it was: every (network, message) it reported."""
    def spans(n: Network) -> set[str]:
        return {"*swarm*"} | set(n.hosts) if n.driver == "overlay" else set(n.hosts)

    found = set()
    for i, a in enumerate(nets):
        for b in nets[:i]:
            sa, sb = a.subnet, b.subnet
            if sa is None or sb is None or not sa.overlaps(sb):
                continue
            shared = spans(a) & spans(b)
            if a.driver == "overlay" or b.driver == "overlay":
                shared = shared or (set(a.hosts) | set(b.hosts))
            if shared:
                where = ", ".join(sorted(h for h in shared if h != "*swarm*"))
                found.add((a.key, f"{sa} overlaps {sb} of network {b.key!r}"
                           + (f" on host {where}" if where else "")))
    return found


@pytest.mark.parametrize("seed", range(60))
def test_overlap_sweep_reports_what_the_pairwise_check_did(seed: int) -> None:
    """Every message is one the pairwise check gave; there is one whenever there was
    one; and without overlays every network that took part in an overlap there takes
    part in one here."""
    rng = random.Random(seed)
    overlays = seed % 2 == 0
    pool = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.3.0/24", "10.2.0.0/16",
            "10.1.2.128/25", "192.168.0.0/24", "10.1.0.0/16"]
    hosts = ["h1", "h2", "h3"]
    nets = []
    for i in range(rng.randint(2, 12)):
        driver = rng.choice(["bridge", "bridge", "overlay" if overlays else "bridge", "macvlan"])
        on = tuple(sorted(rng.sample(hosts, rng.randint(0, 2))))
        nets.append(Network(key=f"n{i}", name=f"lab-n{i}", driver=driver,
                            subnet=ipaddress.IPv4Network(rng.choice(pool)), hosts=on))
    sc = Scenario(name="lab", description="", hosts=(), networks=tuple(nets), containers=(),
                  probes=(), probe_image="busybox", source_path="t.yaml")
    out = Findings()
    data: dict[str, Any] = {"networks": {n.key: {} for n in nets}}
    Checker(sc, data, Broken(frozenset(), frozenset(), frozenset()), out).overlaps()
    new = {(str(f.path[1]), f.message) for f in out.items}
    old = _old_overlaps(nets)
    assert new <= old
    assert bool(new) == bool(old)
    if len(old) <= 1:
        assert new == old
    if overlays:
        return
    involved_old = {k for k, _ in old} | {m.split("of network '")[1].split("'")[0]
                                          for _, m in old}
    involved_new = {k for k, _ in new} | {m.split("of network '")[1].split("'")[0]
                                          for _, m in new}
    assert involved_new == involved_old


# -- probes after expansion ---------------------------------------------------------------

def _probe_file(n_from: int, n_to: int, entries: int = 1) -> str:
    keys = [f"c{i}" for i in range(max(n_from, n_to))]
    text = HEAD + "containers:\n" + "".join(f"  {k}: {{image: b}}\n" for k in keys)
    text += "probes:\n"
    for _ in range(entries):
        text += (f"  - {{type: ping, from: [{', '.join(keys[:n_from])}], "
                 f"to: [{', '.join(keys[:n_to])}]}}\n")
    return text


def test_probes_are_counted_before_they_are_made() -> None:
    started = time.perf_counter()
    first = _one(_probe_file(600, 600))
    assert time.perf_counter() - started < 5  # 35 s before
    assert first.startswith("t.yaml:")
    assert ": probes[0]: the probes expand to more than 10000: this one makes 600 x 600 = " \
           "360000, after 0 before it; " in first


def test_the_error_stands_at_the_entry_that_crosses() -> None:
    issues = _parse(_probe_file(50, 50, entries=5))  # 2500 each: the fifth crosses
    assert any(": probes[4]: the probes expand to more than 10000: this one makes 50 x 50 = "
               "2500, after 10000 before it" in i for i in issues)


def test_probes_up_to_the_limit_are_fine() -> None:
    assert _parse(_probe_file(100, 100)) == []  # 10,000 counted, 9,900 made


def test_builder_counts_for_any_caller() -> None:
    data = {"containers": {"a": {}}, "probes": [{"type": "ping", "from": ["a"] * 200,
                                                 "to": ["b"] * 200}]}
    out = Findings()
    b = Builder(data, Broken(frozenset(), frozenset(), frozenset()), out)
    assert b.probes() == ()
    assert "more than 10000" in out.items[0].message


def test_sections_have_a_limit() -> None:
    hosts = "".join(f"  h{i}: {{}}\n" for i in range(limits.MAX_ENTRIES + 1))
    first = _one(HEAD + "hosts:\n" + hosts + "containers:\n  a: {image: b, host: h0}\n")
    assert f"t.yaml:{limits.MAX_ENTRIES + 4}:3: hosts.h{limits.MAX_ENTRIES}: more than " \
           "10000 hosts in one scenario" in first


# -- YAML ------------------------------------------------------------------------------------

def test_aliases_are_counted_in_characters() -> None:
    text = (HEAD + 'x-big: &big "' + "x" * 100_000 + '"\n'
            "x-l1: &l1 [" + ", ".join(["*big"] * 20) + "]\n"
            "containers:\n  a: {image: b, cap_add: [" + ", ".join(["*l1"] * 20) + "]}\n")
    started = time.perf_counter()
    first = _one(text)
    assert time.perf_counter() - started < 2
    assert "the document expands to more than 4194304 characters of keys and values" in first


def test_alias_positions_are_those_of_the_anchor() -> None:
    r = yamlload.load_yaml("a: &x {b: [1, {c: 2}]}\nd: *x\ne: {<<: *x, f: 3}\n")
    assert r.data["d"] == {"b": [1, {"c": 2}]}
    assert r.positions.values[("d", "b", 1, "c")] == yamlload.Mark(1, 19)
    assert r.positions.keys[("e", "b")] == yamlload.Mark(1, 8)
    assert r.data["e"] == {"b": [1, {"c": 2}], "f": 3}


def test_existing_limits_keep_their_messages() -> None:
    with pytest.raises(yamlload.YamlProblem, match="more than 200000 values"):
        yamlload.load_yaml("a: [" + ",".join(["1"] * 200_001) + "]\n")
    with pytest.raises(yamlload.YamlProblem, match="nesting deeper than 64 levels"):
        yamlload.load_yaml("a: " + "[" * 100 + "]" * 100 + "\n")


def test_a_number_with_too_many_digits_is_an_error() -> None:
    with pytest.raises(yamlload.YamlProblem, match="has too many digits"):
        yamlload.load_yaml("a: " + "9" * 5000 + "\n")


def test_duplicate_keys_stop_at_the_report_limit() -> None:
    assert yamlload.MAX_DUPLICATES_KEPT == limits.MAX_ISSUES
    issues = _parse(HEAD + "containers:\n  a: {image: b}\n" + "d: 1\n" * 1000)
    assert issues[0] == ("t.yaml:1:1: (file): more than 200 errors: the first 200 are shown "
                         "and the checks stopped there; fix these and validate again")
    assert len(issues) == 201


# -- patterns ----------------------------------------------------------------------------

@pytest.mark.parametrize(("where", "value"), [
    ("name", '"demo\\n"'),
    ("name", '"demo\\r"'),
    ("containers.a.hostname", '"web\\n"'),
    ("containers.a.name", '"web\\u202e"'),
    ("containers.a.volumes[0]", '["/srv:/data\\n"]'),
    ("hosts.h.engine", '"ssh://h\\n"'),
])
def test_patterns_refuse_control_characters(where: str, value: str) -> None:
    fields = {"name": f"name: {value}\ncontainers:\n  a: {{image: b}}\n",
              "containers.a.hostname": f"name: lab\ncontainers:\n  a: {{image: b, hostname: "
                                       f"{value}}}\n",
              "containers.a.name": f"name: lab\ncontainers:\n  a: {{image: b, name: {value}}}\n",
              "containers.a.volumes[0]": f"name: lab\ncontainers:\n  a: {{image: b, volumes: "
                                         f"{value}}}\n",
              "hosts.h.engine": f"name: lab\nhosts:\n  h: {{engine: {value}}}\ncontainers:\n"
                                "  a: {image: b}\n"}
    first = _one("version: 1\n" + fields[where])
    assert f": {where}: the string '" in first
    assert "is not valid: expected" in first


def test_keys_checked_by_pattern_refuse_control_characters() -> None:
    first = _one(HEAD + 'containers:\n  "a\\n": {image: b}\n')
    assert first.startswith('t.yaml:4:3: containers["a\\n"]: \'a\\n\' is not a valid key')


def test_patterns_still_accept_what_they_did() -> None:
    assert _parse(HEAD + "containers:\n  a-1_b: {image: b, hostname: web-1, name: x.y_z, "
                  "volumes: ['/srv:/data:ro'], env: {A: \"x\\ny\"}, labels: {k: v}}\n") == []


# -- messages cut long values ------------------------------------------------------------------

def test_shown_cuts_and_escapes() -> None:
    assert shown("demo\n") == "'demo\\n'"
    assert shown("a\u202eb") == "'a\\u202eb'"
    assert shown("x" * 900_000) == repr("x" * 80) + "... (900000 characters)"


def test_a_900_kb_value_never_comes_out_whole() -> None:
    issues = _parse("version: 1\nname: " + "a" * 900_000 + "\ncontainers:\n  a: {image: b}\n")
    assert len(issues) == 1
    assert "... (900000 characters) is not valid" in issues[0]
    assert len(issues[0]) < 400


def test_issue_format_cuts_whatever_a_message_quotes() -> None:
    issue = Issue("f.yaml", 1, 1, "x", "bad " + "v" * 900_000 + " here", "h" * 10_000)
    line = issue.format()
    assert len(line) < 5000
    assert "... (900000 characters)" in line


def test_paths_cut_long_keys() -> None:
    assert dotted(("containers", "k" * 1000)) == 'containers["' + "k" * 80 + \
        '... (1000 characters)"]'


# One value each pattern of the schema accepts: a new pattern needs one here, so that the
# test below checks it too.
PATTERN_EXAMPLES = {
    r"^((\[[0-9a-fA-F:.]+\]|[0-9.]+):)?(([0-9]+(-[0-9]+)?)?:)?[0-9]+(-[0-9]+)?"
    r"(/(tcp|udp|sctp))?$": "127.0.0.1:8080:80/tcp",
    r"^([^:]+:)?/[^:]*(:[a-zA-Z,]+)?$": "/srv:/data:ro",
    r"^(host:)?[a-z0-9][a-z0-9_-]{0,62}$": "host:h1",
    r"^host:[a-z0-9][a-z0-9_-]{0,62}$": "host:h1",
    r"^(no|always|unless-stopped|on-failure(:[0-9]+)?)$": "on-failure:3",
    r"^(unix|tcp|ssh)://": "ssh://root@h1",
    r"^.+$": "label",
    r"^/": "/etc/hosts",
    r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$": "02:42:0a:00:00:05",
    r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*)$": "web.lab",
    r"^[A-Za-z_]+$": "NET_ADMIN",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "manager_addr",
    r"^[^=]+$": "PATH",
    r"^[a-z0-9][a-z0-9-]{0,30}$": "demo",
    r"^[a-z0-9][a-z0-9_-]{0,62}$": "c1",
    r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$": "web-1",
    r"^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,62})$": "lab.example",
    r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$": "lab-web.1",
    r"^[a-zA-Z0-9_.-]{1,15}$": "eth0",
    r"^[a-zA-Z0-9_./-]+$": "net.ipv4.ip_forward",
    r"^https?://": "http://web/",
    r"^[0-9]+(\.[0-9]+)?([kmgKMG]?(bit|bps))$": "10mbit",
    r"^[a-z0-9][a-z0-9_-]{0,62}(:[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?)?$": "c2:web",
    r"^[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9_-]{0,61}"
    r"[a-zA-Z0-9])?)*$": "db.lab.example",
}


def _schema_patterns() -> set[str]:
    from dnetlab.load.schema import schema

    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            assert "patternProperties" not in node  # its keys would need the same care
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema())
    return found


@pytest.mark.parametrize("bad", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028",
                                 "\u202e", "\u200b", "\ufeff", "\U000e0041"])
def test_every_schema_pattern_refuses_control_characters(bad: str) -> None:
    from dnetlab.load.schema import _pattern_ok

    patterns = _schema_patterns()
    assert patterns == set(PATTERN_EXAMPLES)
    for pattern, good in PATTERN_EXAMPLES.items():
        assert _pattern_ok(pattern, good), pattern
        for where in (good + bad, bad + good, good[:1] + bad + good[1:]):
            assert not _pattern_ok(pattern, where), (pattern, where)


def test_pure_python_parser_builds_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where PyYAML comes without libyaml, its Python parser feeds the same builder."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    texts = [p.read_text(encoding="utf-8") for p in sorted(root.glob("scenarios/*.yaml"))]
    texts += ["a: &x {b: [1, {c: 2}]}\nd: *x\ne: {<<: [*x, {g: 1}], f: 3}\n",
              "&k key: v\nother: *k\n", "a: 1\na: 2\n"]

    def load(text: str) -> object:
        try:
            r = yamlload.load_yaml(text)
        except yamlload.YamlProblem as p:
            return (p.mark, p.message)
        return (r.data, r.positions.values, r.positions.keys,
                [(p.mark, p.message) for p in r.problems])

    with_libyaml = [load(t) for t in texts]
    monkeypatch.setattr(yamlload, "_CParser", None)
    assert [load(t) for t in texts] == with_libyaml
