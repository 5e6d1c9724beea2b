"""Jinja2 rendering of scenario templates (loaded only for files that use templating).

The environment is sandboxed (no attribute access to Python internals, no filesystem),
undefined variables are errors, and work is bounded so that a template cannot exhaust the
machine: repetition operators are capped, output is capped, and rendering has a deadline.
"""

from __future__ import annotations

import operator
import os
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dnetlab.errors import Issue, ScenarioInvalid
from dnetlab.load.isolate import Overrun, run_isolated
from dnetlab.load.rendered import Rendered, Variables, line_map
from dnetlab.load.source import Source
from dnetlab.load.yamlload import YamlProblem, load_yaml

MAX_RENDERED_BYTES = 4 * 1024 * 1024
MAX_SEQUENCE_REPEAT = 100_000  # longest string/list that `*` may build
MAX_POWER_EXPONENT = 1000
RENDER_DEADLINE_S = 1.5  # any file under 1 MiB validates in under 2 s
RENDER_MEMORY_BYTES = 192 * 1024 * 1024  # beyond what the process already uses
_TEMPLATE_NAME = "<scenario>"


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox guards attribute access but lets `'a' * 10**10` allocate freely."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_POWER_EXPONENT:
                raise SecurityError(f"exponent {right} is over the limit {MAX_POWER_EXPONENT}")
            return operator.pow(left, right)
        for seq, n in ((left, right), (right, left)):
            if (isinstance(seq, str | list | tuple) and isinstance(n, int)
                    and len(seq) * max(n, 0) > MAX_SEQUENCE_REPEAT):
                    raise SecurityError(
                        f"repeating a sequence {n} times builds more than "
                        f"{MAX_SEQUENCE_REPEAT} items"
                    )
        return operator.mul(left, right)


ENV_PREFIX = "DNETLAB_"


class EnvRefused(Exception):
    """env() asked for a variable the user did not allow."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _env_function(allowed: frozenset[str]) -> Callable[..., str]:
    def env(name: str, default: str | None = None) -> str:
        if not isinstance(name, str) or not (name.startswith(ENV_PREFIX) or name in allowed):
            raise EnvRefused(str(name)[:80])
        value = os.environ.get(name, default)
        if value is None:
            raise jinja2.UndefinedError(
                f"environment variable {name!r} is not set and env() was given no default"
            )
        return value

    return env


def _environment(allowed_env: frozenset[str] = frozenset()) -> _BoundedSandbox:
    env = _BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        loader=None,  # no {% include %} or {% import %}: scenario files stand alone
    )
    keep = ("range", "dict", "namespace")
    env.globals = {"env": _env_function(allowed_env), **{k: env.globals[k] for k in keep}}
    return env


def default_vars(source: Source) -> tuple[dict[str, Any], list[Issue]]:
    """The `vars:` mapping, read from the raw file before rendering."""
    block = _raw_vars_block(source.text)
    if block is None:
        return {}, []
    offset, text = block
    try:
        loaded = load_yaml(text)
    except YamlProblem as p:
        line = (p.mark.line + offset) if p.mark else offset + 1
        return {}, [Issue(source.path, line, p.mark.col if p.mark else 1, "vars",
                          f"cannot read the vars block before rendering: {p.message}",
                          "values in `vars:` are plain YAML; templates are not rendered there")]
    data = loaded.data.get("vars") if isinstance(loaded.data, dict) else None
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [Issue(source.path, offset + 1, 1, "vars", "`vars` must be a mapping of "
                          "variable names to values")]
    return data, []


_TOP_KEY = re.compile(r"^(?:[A-Za-z_][\w-]*|\"[^\"]*\"|'[^']*')\s*:")


def _raw_vars_block(text: str) -> tuple[int, str] | None:
    """The top-level `vars:` section as text (and its line offset).

    The rest of the raw file need not be valid YAML (Jinja blocks), so the section is
    cut out by its indentation rather than parsed with the whole file.
    """
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if re.match(r"^vars\s*:", ln)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines):
        ln = lines[end]
        if ln and not ln[0].isspace() and not ln.startswith("#") and _TOP_KEY.match(ln):
            break
        if ln.startswith("---") or ln.startswith("..."):
            break
        end += 1
    return start, "\n".join(lines[start:end]) + "\n"


def load_vars_file(path: str) -> dict[str, Any]:
    from dnetlab.load.source import read_source

    src = read_source(path)
    try:
        loaded = load_yaml(src.text)
    except YamlProblem as p:
        raise ScenarioInvalid([Issue(path, p.mark.line if p.mark else None,
                                     p.mark.col if p.mark else None, "", p.message, p.hint)]
                              ) from None
    if not isinstance(loaded.data, dict):
        raise ScenarioInvalid([Issue(path, 1, 1, "", "a vars file must be a mapping of "
                                     "variable names to values")])
    return loaded.data


def collect_vars(source: Source, variables: Variables) -> tuple[dict[str, Any], list[Issue]]:
    values, issues = default_vars(source)
    for f in variables.files:
        values.update(load_vars_file(f))
    values.update(variables.cli)
    return values, issues


def _locate_name(source: Source, name: str, lineno: int | None) -> tuple[int, int]:
    """Line and column of `name` inside a `{{ }}` or `{% %}` of the template."""
    lines = source.text.splitlines()
    pattern = re.compile(r"(?<![\w.])" + re.escape(name) + r"\b")
    candidates = [lineno - 1] if lineno else range(len(lines))
    for i in candidates:
        if 0 <= i < len(lines):
            for m in re.finditer(r"\{\{.*?\}\}|\{%.*?%\}", lines[i]):
                hit = pattern.search(lines[i], m.start(), m.end())
                if hit:
                    return i + 1, hit.start() + 1
            if lineno:
                first = lines[i].find("{")
                return i + 1, (first + 1) if first >= 0 else 1
    return (lineno or 1), 1


def _template_line(exc: BaseException) -> int | None:
    """The template line where a render-time error arose (Jinja rewrites its frames)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == _TEMPLATE_NAME:
            line = frame.lineno
    return line


def _render_text(env: _BoundedSandbox, source: Source, values: Mapping[str, Any]) -> str:
    template = env.from_string(source.text)
    template.filename = _TEMPLATE_NAME
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**values):
        size += len(chunk)
        if size > MAX_RENDERED_BYTES:
            raise SecurityError(f"the rendered text grows over {MAX_RENDERED_BYTES} bytes")
        chunks.append(chunk)
    return "".join(chunks)


_UNDEFINED = re.compile(r"^'([A-Za-z_]\w*)' is undefined$")
MAX_UNDEFINED_REPORTED = 50


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc).rstrip(".")


def _syntax_issue(source: Source, exc: jinja2.TemplateSyntaxError) -> Issue:
    line = exc.lineno or 1
    lines = source.text.splitlines()
    col = max(lines[line - 1].find("{"), 0) + 1 if line <= len(lines) else 1
    return Issue(source.path, line, col, "", f"template syntax error: {_message(exc)}",
                 "Jinja tags are {{ expression }} and {% statement %}; a literal `{{` "
                 "is written {{ '{{' }}")


def _render_collecting_undefined(
    env: _BoundedSandbox, source: Source, values: dict[str, Any]
) -> tuple[str, list[Issue]]:
    """Render; each undefined variable is reported where it is used, then stubbed so the
    next render can find the next one: the user sees all of them at once."""
    issues: list[Issue] = []
    stubbed = dict(values)
    while True:
        try:
            return _render_text(env, source, stubbed), issues
        except jinja2.UndefinedError as exc:
            m = _UNDEFINED.match(_message(exc))
            if not m or len(issues) >= MAX_UNDEFINED_REPORTED or m.group(1) in stubbed:
                if issues:  # a stub's own consequence; the undefined names are the cause
                    return "", issues
                raise
            name = m.group(1)
            line, col = _locate_name(source, name, _template_line(exc))
            issues.append(Issue(source.path, line, col, "", f"undefined template variable {name!r}",
                                f"define it under `vars:`, in a --vars-file, or with "
                                f"--var {name}=VALUE"))
            stubbed[name] = jinja2.ChainableUndefined(name=name)  # renders "", chains .attr
        except Exception:
            if issues:
                return "", issues
            raise


def _located(source: Source, exc: BaseException, text: str, hint: str | None = None) -> Issue:
    line = _template_line(exc) or getattr(exc, "lineno", None)
    col = _locate_name(source, "", line)[1] if line else None
    return Issue(source.path, line, col, "", text, hint)


def render_template(source: Source, variables: Variables) -> Rendered:
    """Render the scenario template; raises ScenarioInvalid with every problem found.

    The rendering runs in a forked child with a deadline and a memory limit (see
    `isolate`): a single filter call can build a gigabyte string in C, where no check of
    ours could stop it.
    """
    values, issues = collect_vars(source, variables)
    if issues:
        raise ScenarioInvalid(issues)
    try:
        text, issues = run_isolated(lambda: _render_all(source, values, variables.allow_env),
                                    timeout_s=RENDER_DEADLINE_S,
                                    memory_bytes=RENDER_MEMORY_BYTES)
    except Overrun as exc:
        if exc.what == "time":
            message = f"rendering took longer than {RENDER_DEADLINE_S:g} s and was stopped"
        else:
            message = (f"rendering needed more than {RENDER_MEMORY_BYTES // 2**20} MB of "
                       "memory and was stopped")
        issues = [Issue(source.path, None, None, "", message,
                        "look for loops that multiply (range inside range) and for values "
                        "that grow (~ or + in a loop, large widths in format, center, "
                        "indent)")]
    if issues:
        raise ScenarioInvalid(issues)
    return Rendered(source, text, *line_map(source.text, text))


_SANDBOX_HINT = ("templates may use variables, filters and loops, not Python internals or "
                 "unbounded work")


def _render_all(source: Source, values: dict[str, Any],
                allowed_env: frozenset[str]) -> tuple[str, list[Issue]]:
    """The rendered text, or the located issues that stopped it (run in the child)."""
    env = _environment(allowed_env)
    try:
        return _render_collecting_undefined(env, source, values)
    except jinja2.TemplateSyntaxError as exc:
        return "", [_syntax_issue(source, exc)]
    except EnvRefused as exc:
        return "", [_located(source, exc, f"env({exc.name!r}) is refused: a scenario file "
                             f"reads only environment variables named {ENV_PREFIX}*, and "
                             "those the user allows", f"if this file may read it, run with "
                             f"--allow-env {exc.name}; or export the value as "
                             f"{ENV_PREFIX}{exc.name}")]
    except (SecurityError, OverflowError) as exc:  # the sandbox's range() cap: Overflow
        return "", [_located(source, exc, f"template refused by the sandbox: "
                             f"{_message(exc)}", _SANDBOX_HINT)]
    except jinja2.TemplateError as exc:
        return "", [_located(source, exc, f"template error: {_message(exc)}")]
    except TypeError as exc:
        if "no loader" in str(exc):
            return "", [_located(source, exc, "{% include %}, {% import %} and {% extends %} "
                                 "are not available", "a scenario file stands alone; put "
                                 "shared values in a --vars-file")]
        return "", [_located(source, exc, f"template error: TypeError: {exc}")]
    except MemoryError:
        raise  # the child reports it as a memory overrun
    except (ArithmeticError, ValueError, RecursionError) as exc:
        return "", [_located(source, exc, f"template error: {type(exc).__name__}: {exc}")]
