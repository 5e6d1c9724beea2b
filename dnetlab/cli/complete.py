"""Shell completion through click's mechanism (`_DNETLAB_COMPLETE=bash_source dnetlab`):
commands and options come from click; this adds scenario files, and from the records in
.dnetlab/ the lab names, container keys, network keys, host keys and probe names.

Completion reads files only: it never contacts an engine, and a candidate list that
cannot be made (no record, a damaged one, anything else) is an empty one, never an error
on the user's terminal. The callbacks are attached when a completion is asked for, to
every command the group has then (commands added by other modules included), by the
parameter's name: no option declaration carries them.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

Candidates = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]

SCENARIO_SUFFIXES = (".yaml", ".yml")
_SAFE = re.compile(r"[\w@%+=:,./-]*")


def _value(text: str) -> str:
    """bash puts a candidate on the command line as it is: quote what the shell would
    split (a probe name has spaces); zsh and fish quote candidates themselves."""
    if os.environ.get("_DNETLAB_COMPLETE", "").startswith("bash") and not _SAFE.fullmatch(text):
        return shlex.quote(text)
    return text


def _matching(pairs: Iterable[tuple[str, str]], incomplete: str) -> list[CompletionItem]:
    seen: set[str] = set()
    out = []
    for value, help_text in pairs:
        if value.startswith(incomplete) and value not in seen:
            seen.add(value)
            out.append(CompletionItem(_value(value), help=help_text or None))
    return out


def _labs(ctx: click.Context) -> list[Any]:
    """The records meant: -n NAME when given (and recorded), else every recorded lab."""
    from dnetlab.lab import records

    names = records.names()
    wanted = ctx.params.get("lab_name")
    if wanted in names:
        names = [wanted]
    return [records.load(n) for n in names]


def _raw(rec: Any) -> dict[str, Any]:
    """The record's rendered scenario as plain YAML (quick: no schema, no model)."""
    import yaml

    data = yaml.safe_load(rec.rendered)
    return data if isinstance(data, dict) else {}


def _section_keys(section: str, what: Callable[[dict[str, Any]], str]) -> Candidates:
    def complete(ctx: click.Context, _param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
        pairs = []
        for rec in _labs(ctx):
            items = _raw(rec).get(section) or {}
            if isinstance(items, dict):
                pairs += [(str(k), what(v if isinstance(v, dict) else {}))
                          for k, v in items.items()]
        return _matching(pairs, incomplete)

    return complete


def _probe_names(ctx: click.Context, _param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
    from dnetlab.lab.deployed import scenario_from_record

    pairs = []
    for rec in _labs(ctx):
        pairs += [(p.name, p.type) for p in scenario_from_record(rec).probes]
    return _matching(pairs, incomplete)


def _lab_names(ctx: click.Context, _param: click.Parameter,
               incomplete: str) -> list[CompletionItem]:
    from dnetlab.lab import records

    return _matching(((n, "") for n in records.names()), incomplete)


def _scenario_files(ctx: click.Context, _param: click.Parameter,
                    incomplete: str) -> list[CompletionItem]:
    """YAML files, and (through the shell) directories to go into."""
    head, _, prefix = incomplete.rpartition("/")
    folder = Path(head + "/" if head or incomplete.startswith("/") else ".")
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.startswith(prefix) or (
                    entry.name.startswith(".") and not prefix.startswith(".")):
                continue
            if entry.name.endswith(SCENARIO_SUFFIXES) and entry.is_file():
                found.append(f"{head}/{entry.name}" if head or incomplete.startswith("/")
                             else entry.name)
    # "dir" first: bash's script empties its list on it, then offers directories only
    # when no file matched; zsh and fish add the directories to the files
    return [CompletionItem(incomplete, type="dir"),
            *(CompletionItem(_value(f)) for f in sorted(found))]


_CONTAINERS = _section_keys("containers", lambda v: f"on host {v.get('host', 'local')}")
_NETWORKS = _section_keys("networks", lambda v: str(v.get("driver", "bridge")))
_HOSTS = _section_keys("hosts", lambda v: str(v.get("engine") or "local engine"))

def _first_container(ctx: click.Context, param: click.Parameter,
                     incomplete: str) -> list[CompletionItem]:
    """`exec [CONTAINER] -- CMD...` takes everything as `args`: its first word is a
    container, the rest is the command's own."""
    if ctx.params.get("args"):
        return []
    return _CONTAINERS(ctx, param, incomplete)


# parameter name -> its candidates (arguments and options alike)
BY_NAME: dict[str, Candidates] = {
    "lab_name": _lab_names,
    "container": _CONTAINERS, "containers": _CONTAINERS, "target": _CONTAINERS,
    "args": _first_container,
    "network": _NETWORKS, "network_key": _NETWORKS, "networks": _NETWORKS,
    "host": _HOSTS, "host_key": _HOSTS, "hosts": _HOSTS,
    "probe_names": _probe_names, "probe": _probe_names, "probes": _probe_names,
}
SCENARIO_ARGS = ("file", "files")


def _quiet(fn: Candidates) -> Candidates:
    """A completion that fails offers nothing rather than printing a traceback."""
    def complete(ctx: click.Context, param: click.Parameter,
                 incomplete: str) -> list[CompletionItem]:
        try:
            return fn(ctx, param, incomplete)
        except Exception:
            return []

    return complete


def attach(group: click.Group) -> None:
    """Give the group's commands' parameters their candidates (those that have none)."""
    load_all = getattr(group, "load_all", None)
    if load_all is not None:  # the commands that load lazily (cli/commands.py)
        load_all()
    for command in group.commands.values():
        if isinstance(command, click.Group):
            attach(command)
        for param in command.params:
            if getattr(param, "_custom_shell_complete", None) is not None:
                continue
            fn = BY_NAME.get(param.name or "")
            if fn is None and isinstance(param, click.Argument) and \
                    param.name in SCENARIO_ARGS and isinstance(param.type, click.Path):
                fn = _scenario_files
            if fn is not None:
                param._custom_shell_complete = _quiet(fn)


def install(group: click.Group) -> None:
    """Attach the candidates when a completion is asked for; a completion that fails
    anyway prints nothing and exits 0."""
    original = group._main_shell_completion

    def completing(ctx_args: Any, prog_name: str, complete_var: str | None = None) -> None:
        var = complete_var or f"_{prog_name.replace('-', '_').upper()}_COMPLETE"
        if not os.environ.get(var):
            return
        try:
            attach(group)
            original(ctx_args, prog_name, complete_var)
        except SystemExit:
            raise
        except Exception:
            sys.exit(0)

    setattr(group, "_main_shell_completion", completing)  # noqa: B010 (a method of click's)
