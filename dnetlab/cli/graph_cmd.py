"""`dnetlab graph [FILE]`: the lab's topology from the file alone, no engine.

Without FILE, the lab recorded here (.dnetlab/) is drawn from its record. The last
verify's report, saved beside the record by `verify`, adds the probes' outcomes: failed
probes are drawn on the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dnetlab.errors import UsageError
from dnetlab.graph import FORMATS

if TYPE_CHECKING:
    from dnetlab.model import Scenario


# The options of every command that renders a file, as commands.py declares them; kept
# here rather than imported, because commands.py imports this module to register it.
@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option("-n", "--name", "lab_name", metavar="NAME",
              help="The recorded lab to draw, when several are recorded here.")
@click.option("--var", "var_items", multiple=True, metavar="KEY=VALUE",
              help="Set a template variable (overrides --vars-file); repeatable.")
@click.option("--vars-file", "vars_files", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="YAML mapping of template variables (overrides `vars:`).")
@click.option("--allow-env", "allow_env", multiple=True, metavar="NAME",
              help="Let env() in the file read this variable (besides DNETLAB_*); "
                   "repeatable.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid",
              show_default=True, help="mermaid (GitHub markdown), dot (Graphviz), json, or "
              "html (one self-contained page to open in a browser).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), metavar="PATH",
              help="Write the graph there instead of standard output.")
@click.option("--no-results", is_flag=True,
              help="Leave out the last verify's results even when they are recorded.")
def graph(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
          vars_files: tuple[str, ...], allow_env: tuple[str, ...], fmt: str,
          output: str | None, no_results: bool) -> None:
    """Draw the lab: hosts as groups, networks and containers as nodes, each attachment
    with its address (and impairment); failed probes of the last verify when recorded.

    Built from FILE (or the lab recorded here); no engine is contacted."""
    from dnetlab.graph import render
    from dnetlab.graph.model import build

    sc = _scenario(file, lab_name, var_items, vars_files, allow_env)
    report = None if no_results else _last_report(sc.name)
    text = render(build(sc, report), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"graph of lab {sc.name} ({fmt}) written to {output}", err=True)


def _last_report(name: str) -> Any:
    """The report of the last verify of lab `name` here, or None (never verified here,
    or the lab is not recorded here: a file drawn before its first `up`)."""
    from dnetlab.lab import records

    if name not in records.names():
        return None
    return records.load_report(name)


def _scenario(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
              vars_files: tuple[str, ...], allow_env: tuple[str, ...]) -> Scenario:
    """FILE's scenario, else the one `up` recorded here (as the other commands do)."""
    if file is None:
        from dnetlab.lab import records
        from dnetlab.lab.deployed import scenario_from_record

        return scenario_from_record(records.pick(lab_name))
    from dnetlab.lab.records import already_validated
    from dnetlab.lab.trust import allowed_env
    from dnetlab.load.pipeline import load
    from dnetlab.load.rendered import Variables

    given: dict[str, str] = {}
    for item in var_items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.UsageError(f"--var {item!r}: expected KEY=VALUE with KEY a name such "
                                   "as manager_addr")
        given[key] = value
    variables = Variables(cli=given, files=vars_files,
                          allow_env=frozenset(allow_env) | allowed_env(file))
    loaded = load(file, variables, trusted=already_validated)
    for issue in loaded.warnings:
        click.echo(issue.format(), err=True)
    return loaded.scenario


def register(group: click.Group) -> None:
    group.add_command(graph)
