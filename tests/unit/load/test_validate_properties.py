"""Property: whatever the input, validate ends in exit 0, or exit 2 with located messages.

Inputs are the seed scenarios mutated structurally (keys dropped, values swapped for
random ones, unknown keys added) and textually (characters and lines changed), plus
random YAML documents and random text. An internal error or a traceback fails the test.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnetlab.cli import main
from dnetlab.load.render import render
from dnetlab.load.source import Source
from dnetlab.load.yamlload import load_yaml

ROOT = Path(__file__).resolve().parents[3]
SEEDS = {p.stem: p.read_text() for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
# FILE:LINE:COL: path: message, where odd keys in the path are JSON-quoted: x["a b"].y
LOCATED = re.compile(r'^.+:\d+:\d+: (?:[^ "]|"(?:[^"\\]|\\.)*")+: .+$')
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["10.0.0.1", "10.0.0.0/24", "fd00::/64", "a1", "a1@lan", "host:local",
                     "bridge", "overlay", "ping", "-", "{{ x }}", "sleep infinity", "::"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def _validate(text: str, tmp: Path) -> tuple[int, str]:
    path = tmp / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(["validate", str(path)])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, err.getvalue()


def _assert_clean_outcome(code: int, err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.splitlines()
        assert lines, "exit 2 says why"
        for line in lines:
            assert LOCATED.match(line), line


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


@st.composite
def mutated_seed(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = load_yaml(render(Source(name, SEEDS[name])).text).data
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get(data, path[:-1])
        action = draw(st.sampled_from(["drop", "replace", "add"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@st.composite
def text_mutation(draw: st.DrawFn) -> str:
    text = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "indent", "dedent", "insert", "duplicate"]))
        if action == "delete":
            del lines[i]
        elif action == "indent":
            lines[i] = draw(st.sampled_from([" ", "\t", "  "])) + lines[i]
        elif action == "dedent":
            lines[i] = lines[i].lstrip()
        elif action == "duplicate":
            lines.insert(i, lines[i])
        else:
            j = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:j] + draw(st.text(max_size=4)) + lines[i][j:]
        if not lines:
            break
    return "\n".join(lines) + "\n"


@SETTINGS
@given(text=mutated_seed())
def test_structurally_mutated_scenarios(text: str, tmp_path_factory: Any) -> None:
    _assert_clean_outcome(*_validate(text, tmp_path_factory.mktemp("m")))


@SETTINGS
@given(text=text_mutation())
def test_textually_mutated_scenarios(text: str, tmp_path_factory: Any) -> None:
    _assert_clean_outcome(*_validate(text, tmp_path_factory.mktemp("t")))


@SETTINGS
@given(doc=values)
def test_random_yaml_documents(doc: Any, tmp_path_factory: Any) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True)
    _assert_clean_outcome(*_validate(text, tmp_path_factory.mktemp("y")))


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text(text: str, tmp_path_factory: Any) -> None:
    _assert_clean_outcome(*_validate(text, tmp_path_factory.mktemp("r")))
