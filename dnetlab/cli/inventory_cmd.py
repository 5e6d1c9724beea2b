"""`dnetlab inventory`. The group loads this module when the command is asked for
(`LAZY` in commands.py, by name: commands.py does not import it, so the import graph has
no cycle)."""

from __future__ import annotations

import json

import click

from dnetlab.cli.commands import _name_option, _recorded_scenario, _vars_options
from dnetlab.errors import DnetlabError


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@_name_option
@_vars_options
@click.option("--format", "fmt", type=click.Choice(["ansible", "json"]), default="ansible",
              show_default=True)
@click.option("--output", type=click.Path(dir_okay=False),
              help="Write it there instead of standard output.")
def inventory(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
              vars_files: tuple[str, ...], fmt: str, output: str | None) -> None:
    """The lab's containers as an Ansible inventory (or JSON): host, engine, addresses
    per network, groups per network (net_KEY) and per host (host_KEY), and the variables
    of the docker connection plugin (community.docker.docker).

    Addresses are the live ones of running containers, the declared ones otherwise
    (`dnetlab_addresses` says which). `up` writes it to .dnetlab/LAB.inventory.yaml.
    """
    from dnetlab.lab import inventory as inv
    from dnetlab.lab.status import status as lab_status

    sc = _recorded_scenario(file, lab_name, var_items, vars_files)
    live: dict[str, inv.LiveContainer] | None
    try:
        st = lab_status(sc)
        live, instance = inv.live_from_status(st), st.owner.instance
    except DnetlabError as exc:
        click.echo(f"dnetlab: {exc.message}; the inventory holds the declared addresses",
                   err=True)
        live, instance = None, None
    built = inv.build(sc, live, instance)
    text = (json.dumps(inv.as_json(built), indent=2) + "\n" if fmt == "json"
            else inv.ansible_text(built))
    if output:
        from dnetlab.verify.export import write_output

        write_output(text, output)
        click.echo(f"inventory of lab {sc.name} ({built.source} addresses) written to "
                   f"{output}", err=True)
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    group.add_command(inventory)
