"""`dnetlab graph [FILE]`: the lab's topology from the file alone, no engine.

Without FILE, the lab recorded here (.dnetlab/) is drawn from its record. The last
verify's report, saved beside the record by `verify`, adds the probes' outcomes: failed
probes are drawn on the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from dnetlab.cli.commands import _name_option, _recorded_scenario, _vars_options
from dnetlab.errors import UsageError
from dnetlab.graph import FORMATS


# loaded only when `graph` is asked for (LAZY in commands.py), so it may use the shared
# options and loading of the other commands without an import cycle at start-up
@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@_name_option
@_vars_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="mermaid",
              show_default=True, help="mermaid (GitHub markdown), dot (Graphviz), json, or "
              "html (one self-contained page to open in a browser).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), metavar="PATH",
              help="Write the graph there instead of standard output.")
@click.option("--no-results", is_flag=True,
              help="Leave out the last verify's results even when they are recorded.")
def graph(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
          vars_files: tuple[str, ...], fmt: str, output: str | None,
          no_results: bool) -> None:
    """Draw the lab: hosts as groups, networks and containers as nodes, each attachment
    with its address (and impairment); failed probes of the last verify when recorded.

    Built from FILE (or the lab recorded here); no engine is contacted."""
    from dnetlab.graph import render
    from dnetlab.graph.model import build

    sc = _recorded_scenario(file, lab_name, var_items, vars_files)
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




def register(group: click.Group) -> None:
    group.add_command(graph)
