"""Templating: variables and their precedence, env(), the sandbox, and bounded work."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dnetlab.errors import ScenarioInvalid
from dnetlab.load.render import render
from dnetlab.load.rendered import Variables
from dnetlab.load.source import Source

BASE = "version: 1\nname: lab\nvars:\n  img: from-vars\ncontainers:\n  a: {image: '{{ img }}'}\n"


def _render(text: str, **kw: object) -> str:
    return render(Source("f.yaml", text), Variables(**kw)).text  # type: ignore[arg-type]


def _issues(text: str, **kw: object) -> list[str]:
    with pytest.raises(ScenarioInvalid) as err:
        render(Source("f.yaml", text), Variables(**kw) if kw else None)  # type: ignore[arg-type]
    return [i.format() for i in err.value.issues]


def test_vars_are_defaults(tmp_path: Path) -> None:
    assert "image: 'from-vars'" in _render(BASE, cli={})


def test_vars_file_overrides_vars_and_cli_overrides_both(tmp_path: Path) -> None:
    vf = tmp_path / "v.yaml"
    vf.write_text("img: from-file\n")
    assert "'from-file'" in _render(BASE, cli={}, files=(str(vf),))
    assert "'from-cli'" in _render(BASE, cli={"img": "from-cli"}, files=(str(vf),))


def test_later_vars_files_win(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("img: a\n")
    b.write_text("img: b\n")
    assert "'b'" in _render(BASE, cli={}, files=(str(a), str(b)))


def test_env_function_reads_environment_with_default(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "x: {{ env('DNETLAB_T_ADDR', '10.99.0.1') }}\n"
    assert _render(text, cli={}) == "x: 10.99.0.1\n"
    monkeypatch.setenv("DNETLAB_T_ADDR", "10.99.0.7")
    assert _render(text, cli={}) == "x: 10.99.0.7\n"


def test_env_without_default_and_unset_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DNETLAB_T_UNSET", raising=False)
    issues = _issues("x: {{ env('DNETLAB_T_UNSET') }}\n")
    assert issues == ["f.yaml:1:7: (file): template error: environment variable "
                      "'DNETLAB_T_UNSET' is not set and env() was given no default"]


def test_every_undefined_variable_is_reported_at_its_line() -> None:
    issues = _issues("a: {{ one }}\nb: {{ two.three }}\nc: {{ four | default('x') }}\n")
    assert [i.split(": (file): ")[0] for i in issues] == ["f.yaml:1:7", "f.yaml:2:7"]
    assert "'one'" in issues[0] and "'two'" in issues[1]


def test_default_filter_and_defined_test_work() -> None:
    text = "a: {{ x | default(5) }}\n{% if y is defined %}b: 1\n{% endif %}"
    assert _render(text, cli={}) == "a: 5\n"


@pytest.mark.parametrize(
    "expr",
    [
        "''.__class__.__mro__[1].__subclasses__()",
        "cycler.__init__.__globals__",
        "range.__self__",
        "namespace.__init__",
    ],
)
def test_sandbox_refuses_python_internals(expr: str) -> None:
    issues = _issues(f"x: {{{{ {expr} }}}}\n")
    assert len(issues) == 1
    assert issues[0].startswith("f.yaml:1:")
    assert any(w in issues[0] for w in ("unsafe", "no attribute"))


def test_no_filesystem_access() -> None:
    issues = _issues("x: {% include '/etc/passwd' %}\n")
    assert "{% include %}" in issues[0] and "are not available" in issues[0]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("x: {{ 'a' * 10**9 }}\n", "repeating a sequence"),
        ("x: {{ 2 ** 100000000 }}\n", "exponent"),
        ("x: {{ range(10**8) | list }}\n", "Range too big"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n",
         "longer than"),
        ("{% for i in range(99999) %}{{ 'x' * 99999 }}{% endfor %}\n", "rendered text grows"),
    ],
)
def test_templates_cannot_exhaust_the_machine(text: str, needle: str) -> None:
    started = time.monotonic()
    issues = _issues(text)
    assert time.monotonic() - started < 8
    assert needle in issues[0]


def test_syntax_error_is_located() -> None:
    first = _issues("a: 1\nb: {{ x + }}\n")[0]
    assert first.startswith("f.yaml:2:4: (file): template syntax error")


def test_vars_block_is_read_before_rendering_even_with_jinja_blocks() -> None:
    text = ("vars:\n  n: 2\nitems:\n{% for i in range(n) %}\n  - {{ i }}\n{% endfor %}\n")
    assert _render(text, cli={}).count("  - ") == 2


def test_unchanged_lines_map_to_themselves_and_loop_lines_to_their_template_line() -> None:
    text = "a: 1\nl:\n{% for i in range(2) %}\n  - x{{ i }}\n{% endfor %}\nz: 2\n"
    r = render(Source("f.yaml", text))
    rendered = r.text.splitlines()
    z = rendered.index("z: 2") + 1
    assert r.line_map[1] == 1 and r.line_map[z] == 6
    loop_lines = [n for n, t in enumerate(rendered, 1) if t.startswith("  - x")]
    assert [r.template_map[n] for n in loop_lines] == [4, 4]
