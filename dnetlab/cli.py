"""Command line: each command parses options, makes one core call and prints the result.

Heavy modules (the Docker SDK, paramiko, jsonschema, jinja2) are imported inside the
commands that need them, so `dnetlab --help` starts about as fast as click itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dnetlab import __version__
from dnetlab.errors import DnetlabError, ExitCode, ScenarioInvalid

if TYPE_CHECKING:
    from dnetlab.render import Variables

F = TypeVar("F", bound=Callable[..., Any])

_state = {"debug": False}


def _vars_options(f: F) -> F:
    f = click.option("--vars-file", "vars_files", multiple=True, metavar="FILE",
                     type=click.Path(dir_okay=False),
                     help="YAML mapping of template variables (overrides `vars:`).")(f)
    f = click.option("--var", "var_items", multiple=True, metavar="KEY=VALUE",
                     help="Set a template variable (overrides --vars-file); repeatable.")(f)
    return f


def _variables(var_items: tuple[str, ...], vars_files: tuple[str, ...]) -> Variables:
    from dnetlab.render import Variables

    cli: dict[str, str] = {}
    for item in var_items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.UsageError(f"--var {item!r}: expected KEY=VALUE with KEY a name such "
                                   "as manager_addr")
        cli[key] = value
    return Variables(cli=cli, files=vars_files)


def _print_issues(issues: Any) -> None:
    for issue in issues:
        click.echo(issue.format(), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dnetlab")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for internal errors.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
def cli(debug: bool, verbose: int) -> None:
    """Declarative Docker network labs: validate, bring up, verify, tear down.

    A scenario YAML file declares networks, containers on one or several Docker hosts, and
    probes that prove the lab works. See `dnetlab schema` for the format.
    """
    _state["debug"] = debug


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@_vars_options
def validate(files: tuple[str, ...], var_items: tuple[str, ...],
             vars_files: tuple[str, ...]) -> None:
    """Check scenario files (schema and semantics); no engine is contacted.

    Every problem is reported as FILE:LINE:COL: path.to.key: message. Exit 0 when all
    files are valid (warnings allowed), 2 otherwise.
    """
    from dnetlab.scenario import load

    variables = _variables(var_items, vars_files)
    failed = False
    for path in files:
        try:
            loaded = load(path, variables)
        except ScenarioInvalid as exc:
            _print_issues(exc.issues)
            failed = True
            continue
        _print_issues(loaded.warnings)
        sc = loaded.scenario
        click.echo(f"{path}: ok: scenario {sc.name!r}, {len(sc.hosts)} host(s), "
                   f"{len(sc.networks)} network(s), {len(sc.containers)} container(s), "
                   f"{len(sc.probes)} probe(s)")
    if failed:
        raise SystemExit(ExitCode.USAGE)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_vars_options
def render(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...]) -> None:
    """Print the scenario after templating: the text that line numbers refer to."""
    from dnetlab.render import render as render_template
    from dnetlab.source import read_source

    rendered = render_template(read_source(file), _variables(var_items, vars_files))
    click.echo(rendered.text, nl=not rendered.text.endswith("\n"))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (draft 2020-12)."""
    from dnetlab.schema import schema_text

    click.echo(schema_text(), nl=False)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become messages and exit codes, never tracebacks."""
    try:
        cli.main(args=argv, prog_name="dnetlab", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code)
    except ScenarioInvalid as exc:
        _print_issues(exc.issues)
        sys.exit(exc.exit_code)
    except DnetlabError as exc:
        click.echo(f"dnetlab: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        if _state["debug"]:
            raise
        click.echo(f"dnetlab: internal error: {type(exc).__name__}: {exc}\n"
                   "This is a bug in dnetlab; run again with --debug for the traceback and "
                   "report it.", err=True)
        sys.exit(ExitCode.FAILED)
    sys.exit(0)
