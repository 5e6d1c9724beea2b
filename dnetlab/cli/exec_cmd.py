"""`dnetlab exec` (one container, or many at once) and `dnetlab shell`.

`register(cli)` adds both commands to the group; the library calls are
`dnetlab.lab.fanout` (many containers) and `Engine.exec` / `Engine.shell` (one).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

import click

from dnetlab.errors import ExitCode

if TYPE_CHECKING:
    from dnetlab.lab.fanout import ExecOutcome, FanOut
    from dnetlab.model import Scenario


def _scenario(lab_name: str | None) -> Scenario:
    from dnetlab.lab import records
    from dnetlab.lab.deployed import scenario_from_record

    return scenario_from_record(records.pick(lab_name))


# the options come before CONTAINER (or before `--`): what follows is the command, whatever
# it looks like (`dnetlab exec c1 ls --all` lists files)
@click.command(name="exec", context_settings={"ignore_unknown_options": True,
                                              "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[CONTAINER] -- CMD...")
@click.option("-n", "--name", "lab_name", metavar="NAME",
              help="The recorded lab to act on, when several are recorded here.")
@click.option("--all", "all_", is_flag=True, help="Run CMD in every container of the lab.")
@click.option("--network", metavar="KEY", help="Run CMD in every container attached to "
              "this network.")
@click.option("--host", "host", metavar="KEY", help="Run CMD in every container of this "
              "host.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default=None,
              help="Many containers: the results as text (each output under a header, the "
              "default) or as a JSON list of {container, host, exit_code, output}.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Execs run in parallel per host (default 8).")
def exec_(args: tuple[str, ...], lab_name: str | None, all_: bool, network: str | None,
          host: str | None, fmt: str | None, workers: int | None) -> None:
    """Run a command in lab containers wherever they live.

    One container: dnetlab exec c1 -- ip route (its output as is, its exit code).

    Many at once, in parallel (one SSH session per remote host): dnetlab exec --all |
    --network KEY | --host KEY -- CMD...; a result per container; exit 1 when any
    command failed or could not run.
    """
    chosen = [flag for flag, on in (("--all", all_), ("--network", network is not None),
                                    ("--host", host is not None)) if on]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)}: choose one")
    if chosen:
        if not args:
            raise click.UsageError(f"{chosen[0]}: no command given (dnetlab exec "
                                   f"{chosen[0]}{' KEY' if chosen[0] != '--all' else ''} "
                                   "-- CMD...)")
        container, command = None, args
    else:
        if args[1:2] == ("--",):
            args = (args[0], *args[2:])
        if len(args) < 2:
            raise click.UsageError("give a container and a command (dnetlab exec c1 -- "
                                   "CMD...), or --all, --network KEY or --host KEY")
        container, command = args[0], args[1:]
    if container is not None and fmt is None:
        _exec_one(container, command, lab_name)
        return
    from dnetlab.lab.fanout import select

    sc = _scenario(lab_name)
    targets = select(sc, all_=all_, network=network, host=host, container=container)
    run = _fan_out(sc, targets, command, workers)
    _print(run, fmt or "text")
    if run.interrupted:
        click.echo("dnetlab: interrupted; commands already started run to their end",
                   err=True)
        raise SystemExit(130)
    if run.failed:
        raise SystemExit(ExitCode.FAILED)


def _exec_one(container: str, command: tuple[str, ...], lab_name: str | None) -> None:
    """The single-container form, as it always was: raw output, the command's exit code."""
    from dnetlab.engine.engine import Engine
    from dnetlab.lab.session import find_container

    sc = _scenario(lab_name)
    host, name = find_container(sc, container)
    engine = Engine.open(host)
    try:
        res = engine.exec(name, list(command))
    finally:
        engine.close()
    click.echo(res.output, nl=False)
    raise SystemExit(res.exit_code)


def _fan_out(sc: Scenario, targets: list[Any], command: tuple[str, ...],
             workers: int | None) -> FanOut:
    """The fan-out with a progress bar on a terminal; the first Ctrl-C stops waiting."""
    from dnetlab.lab.fanout import fan_out
    from dnetlab.lab.session import DEFAULT_WORKERS

    stop = threading.Event()
    progress = None
    if sys.stderr.isatty():
        from dnetlab.lab.progress import LiveReporter

        progress = LiveReporter()

    def on_start(total: int) -> None:
        if progress is not None:
            progress.start(total, f"exec in {total} container(s) of lab {sc.name}")

    def on_result(r: ExecOutcome) -> None:
        if progress is not None:
            progress.step_done(f"{r.container} (host {r.host}): {_status(r)}", r.ok)

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    old_int = signal.signal(signal.SIGINT, handler)
    old_term = signal.signal(signal.SIGTERM, handler)
    try:
        return fan_out(sc, targets, command, workers=workers or DEFAULT_WORKERS, stop=stop,
                       on_start=on_start, on_result=on_result)
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        if progress is not None:
            progress.finish()


def _status(r: ExecOutcome) -> str:
    if r.exit_code is None:
        return "not run" if r.output.startswith("not run") else "could not run"
    return f"exit {r.exit_code}"


def _print(run: FanOut, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([r.as_json() for r in run.results], indent=2))
        return
    from dnetlab.cli.verify_view import term_safe

    tty = sys.stdout.isatty()
    for r in run.results:
        click.echo(f"=== {r.container} (host {r.host}): {_status(r)} ===")
        text = term_safe(r.output) if tty else r.output
        if text:
            click.echo(text, nl=not text.endswith("\n"))
    bad = run.failed
    summary = f"{len(run.results)} container(s), {len(bad)} failed"
    if bad:
        summary += f": {', '.join(r.container for r in bad)}"
    click.echo(f"{summary} ({run.seconds:.2f} s)", err=True)


@click.command()
@click.argument("container")
@click.option("-n", "--name", "lab_name", metavar="NAME",
              help="The recorded lab to act on, when several are recorded here.")
@click.option("--shell", "shell", default="sh", show_default=True, metavar="PATH",
              help="The shell to run in the container.")
def shell(container: str, lab_name: str | None, shell: str) -> None:
    """An interactive shell in a lab container, wherever it lives (a terminal through
    SSH for a remote host); exits with the shell's status."""
    from dnetlab.engine.engine import Engine
    from dnetlab.lab.fanout import select

    sc = _scenario(lab_name)
    target = select(sc, container=container)[0]
    engine = Engine.open(sc.host(target.host))
    try:
        status = engine.shell(target.name, shell)
    finally:
        engine.close()
    raise SystemExit(status)


def register(cli: click.Group) -> None:
    cli.add_command(exec_)
    cli.add_command(shell)
