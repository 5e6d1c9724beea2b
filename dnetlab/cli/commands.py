"""Command line: each command parses options, makes one core call and prints the result.

Heavy modules (the Docker SDK, paramiko, jsonschema, jinja2) are imported inside the
commands that need them, so `dnetlab --help` starts about as fast as click itself.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dnetlab import __version__
from dnetlab.cli.interrupt import interruptible as _interruptible
from dnetlab.errors import DnetlabError, ExitCode, ScenarioInvalid

if TYPE_CHECKING:
    from dnetlab.load.rendered import Variables
    from dnetlab.model import Host

F = TypeVar("F", bound=Callable[..., Any])

_state: dict[str, Any] = {"debug": False, "command": None}

# what to tell a user whose command was stopped before it reached its own handling of
# Ctrl-C (while loading, checking or waiting on the lock): nothing was half-done there,
# but a lab command may still have work to finish
_AFTER_INTERRUPT = {
    "up": "run `dnetlab up` again to finish (it converges), or `dnetlab down` to remove "
          "what was made",
    "down": "run `dnetlab down` again to finish",
    "verify": "if the steps had changed the lab, run `dnetlab up` to bring it back to its "
              "declared state",
    "test": "run `dnetlab down FILE` to remove what is left of the lab",
}


def _vars_options(f: F) -> F:
    f = click.option("--vars-file", "vars_files", multiple=True, metavar="FILE",
                     type=click.Path(dir_okay=False),
                     help="YAML mapping of template variables (overrides `vars:`).")(f)
    f = click.option("--var", "var_items", multiple=True, metavar="KEY=VALUE",
                     help="Set a template variable (overrides --vars-file); repeatable.")(f)
    # kept in the context, not passed to each command: every command that renders a file
    # reads it through _variables()
    f = click.option("--allow-env", "allow_env", multiple=True, metavar="NAME",
                     expose_value=False, is_eager=True,
                     callback=lambda ctx, _param, value: ctx.meta.__setitem__(
                         "dnetlab.allow_env", frozenset(value)),
                     help="Let env() in the file read this variable (besides DNETLAB_*); "
                          "repeatable.")(f)
    return f


def _variables(var_items: tuple[str, ...], vars_files: tuple[str, ...],
               file: str | None = None) -> Variables:
    """The template variables; env() may read what --allow-env names and what the user
    allowed for this file with `dnetlab trust --allow-env`."""
    from dnetlab.load.rendered import Variables

    cli: dict[str, str] = {}
    for item in var_items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise click.UsageError(f"--var {item!r}: expected KEY=VALUE with KEY a name such "
                                   "as manager_addr")
        cli[key] = value
    allow = click.get_current_context().meta.get("dnetlab.allow_env", frozenset())
    if file is not None:
        from dnetlab.lab.trust import allowed_env

        allow = allow | allowed_env(file)
    return Variables(cli=cli, files=vars_files, allow_env=allow)


def _print_issues(issues: Any) -> None:
    for issue in issues:
        click.echo(issue.format(), err=True)


class _LazyGroup(click.Group):
    """A group whose commands of their own modules load only when one of them is run,
    listed or completed: every `dnetlab` start would otherwise pay their imports (each
    module a few milliseconds; `dnetlab --help` is measured against `import click`).
    `--help` lists them with the one-line help kept in LAZY (a test holds it equal to the
    command's own)."""

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY:
            importlib.import_module(LAZY[cmd_name][0]).register(self)
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context | None) -> list[str]:
        return sorted({*self.commands, *LAZY})

    def load_all(self) -> None:
        for name in LAZY:
            self.get_command(None, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = [n for n in self.list_commands(ctx)
                 if (n in LAZY and n not in self.commands)
                 or not self.commands[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for n in names:
            cmd = self.commands.get(n)
            text = cmd.get_short_help_str(limit) if cmd is not None else \
                _shortened(LAZY[n][1], limit)
            rows.append((n, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shortened(text: str, limit: int) -> str:
    """`text` cut at a word to fit `limit` columns, as click shortens a command's help."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 0)].rsplit(" ", 1)[0] + "..."


# command -> (its module, which has `register(group)`; its one-line help for `--help`)
LAZY: dict[str, tuple[str, str]] = {
    "capture": ("dnetlab.cli.capture_cmd",
                "Capture packets in a lab container's namespace, wherever it lives"),
    "exec": ("dnetlab.cli.exec_cmd", "Run a command in lab containers wherever they live."),
    "shell": ("dnetlab.cli.exec_cmd",
              "An interactive shell in a lab container, wherever it lives"),
    "graph": ("dnetlab.cli.graph_cmd",
              "Draw the lab: hosts as groups, networks and containers as nodes"),
    "inventory": ("dnetlab.cli.inventory_cmd",
                  "The lab's containers as an Ansible inventory (or JSON)"),
}


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from dnetlab.load.pipeline import load

    failed = False
    for path in files:
        try:
            loaded = load(path, _variables(var_items, vars_files, path))
        except ScenarioInvalid as exc:
            _print_issues(exc.issues)
            failed = True
            continue
        _print_issues(loaded.warnings + loaded.ask_issues)
        sc = loaded.scenario
        click.echo(f"{path}: ok: scenario {sc.name!r}, {len(sc.hosts)} host(s), "
                   f"{len(sc.networks)} network(s), {len(sc.containers)} container(s), "
                   f"{len(sc.probes)} probe(s)"
                   + (f", {len(sc.steps)} step(s)" if sc.steps else ""))
    if failed:
        raise SystemExit(ExitCode.USAGE)


@cli.command()
# a directory is not refused here: read_source says so, located like any other problem
@click.argument("file", type=click.Path())
@_vars_options
def render(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...]) -> None:
    """Print the scenario after templating: the text that line numbers refer to."""
    from dnetlab.load.render import render as render_template
    from dnetlab.load.source import read_source

    rendered = render_template(read_source(file), _variables(var_items, vars_files))
    click.echo(rendered.text, nl=not rendered.text.endswith("\n"))


@cli.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (draft 2020-12)."""
    from dnetlab.load.schema import schema_text

    click.echo(schema_text(), nl=False)


# -- lab commands ------------------------------------------------------------------------------

def _name_option(f: F) -> F:
    return click.option("-n", "--name", "lab_name", metavar="NAME",
                        help="The recorded lab to act on, when several are recorded here.")(f)


def _workers_option(f: F) -> F:
    return click.option("--workers", type=click.IntRange(1, 64), default=None,
                        help="Operations run in parallel (default 8).")(f)


def _load_file(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...]) -> Any:
    from dnetlab.lab.records import already_validated
    from dnetlab.load.pipeline import load

    loaded = load(file, _variables(var_items, vars_files, file), trusted=already_validated)
    _print_issues(loaded.warnings)
    return loaded


def _recorded_scenario(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
                       vars_files: tuple[str, ...]) -> Any:
    """The scenario of FILE when given, else the one `up` recorded in .dnetlab/."""
    return _scenario_and_path(file, lab_name, var_items, vars_files)[0]


def _scenario_and_path(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
                       vars_files: tuple[str, ...]) -> tuple[Any, str]:
    """As `_recorded_scenario`, with the path of the file it came from (for approvals)."""
    if file:
        return _load_file(file, var_items, vars_files).scenario, file
    from dnetlab.lab import records
    from dnetlab.lab.deployed import scenario_from_record

    rec = records.pick(lab_name)
    return scenario_from_record(rec), rec.scenario_path


def _report_apply(result: Any, what: str, name: str, hosts: Iterable[Host] = ()) -> None:
    if result is None:
        return
    for step in result.failed:
        click.echo(f"dnetlab: failed: {step.ops[0].display or step.ops[0].describe()}: "
                   f"{step.error}", err=True)
    if result.interrupted:
        click.echo(f"dnetlab: interrupted: {len(result.steps)} step(s) done, {result.not_run} "
                   f"not started; run `dnetlab {what}` again to finish", err=True)
        raise SystemExit(130)
    lost = sorted({step.ops[0].host for step in result.failed if step.environment})
    if lost:
        from dnetlab.engine.connect import engine_url

        urls = {h.key: engine_url(h) for h in hosts}
        for key in lost:
            where = f" ({urls[key]})" if key in urls else ""
            click.echo(f"dnetlab: host {key!r}{where}: its Docker engine stopped answering "
                       f"during `{what}`; what was done on the other hosts is kept; run "
                       f"`dnetlab {what}` again once it answers", err=True)
        raise SystemExit(ExitCode.ENVIRONMENT)
    if result.failed:
        hint = ("run `dnetlab up` again once the cause is fixed; what was done is kept"
                if what == "up" else "run `dnetlab down` again")
        click.echo(f"dnetlab: {len(result.failed)} step(s) failed for lab {name}; {hint}",
                   err=True)
        raise SystemExit(ExitCode.FAILED)


def _trust_option(f: F) -> F:
    return click.option("--trust", "trust_once", is_flag=True,
                        help="Approve what the file asks for, for this run only (CI); "
                             "`dnetlab trust FILE` approves it for good.")(f)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_vars_options
def trust(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...]) -> None:
    """Show what FILE asks of this machine and approve it for `up` and `verify`.

    A file asks when it runs privileged containers, adds capabilities, mounts host paths,
    uses the host's network, publishes ports on every address, runs commands on a host,
    names a remote engine, or may have an image copied from the local engine. The
    approval is kept per file and per set of asks: when the file asks for something new,
    approve it again. With --allow-env NAME, the file's templates may read NAME from now
    on.
    """
    from dnetlab.lab import trust as trust_store
    from dnetlab.load.pipeline import load

    trust_env = tuple(sorted(click.get_current_context().meta.get("dnetlab.allow_env", ())))
    loaded = load(file, _variables(var_items, vars_files, file))
    _print_issues(loaded.warnings)
    for issue in loaded.ask_issues:
        click.echo(issue.format())
    granted = trust_store.approve(file, loaded.asks, trust_env)
    what = f"{len(loaded.asks)} ask(s)" if loaded.asks else "nothing special"
    env = f"; env() may read {', '.join(granted.allow_env)}" if granted.allow_env else ""
    click.echo(f"approved {granted.path}: {what}{env}")


@cli.command()
@click.argument("file", type=click.Path())  # a directory: as `render`
@_vars_options
def plan(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...]) -> None:
    """Show what `up` would change, and why; changes nothing."""
    from dnetlab.lab.up import plan_up

    loaded = _load_file(file, var_items, vars_files)
    _print_issues(loaded.ask_issues)
    the_plan, problems = plan_up(loaded)
    click.echo(the_plan.text(), nl=False)
    for p in problems:
        click.echo(f"preflight: {p}", err=True)
    if problems:
        raise SystemExit(ExitCode.ENVIRONMENT)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@_vars_options
@_workers_option
@click.option("--dry-run", is_flag=True, help="Print the plan, change nothing (as `plan`).")
@_trust_option
def up(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...], workers: int | None,
       dry_run: bool, trust_once: bool) -> None:
    """Bring the lab to what FILE declares: create, repair and remove, idempotently."""
    if dry_run:
        plan.callback(file, var_items, vars_files)  # type: ignore[misc]
        return
    from dnetlab.lab.progress import reporter_for
    from dnetlab.lab.session import DEFAULT_WORKERS
    from dnetlab.lab.trust import require
    from dnetlab.lab.up import up as lab_up

    loaded = _load_file(file, var_items, vars_files)
    require(file, loaded.asks, loaded.ask_issues, once=trust_once, command="up")
    variables = _variables(var_items, vars_files, file)
    with _interruptible() as stop:
        result = lab_up(loaded, reporter_for(), workers=workers or DEFAULT_WORKERS, stop=stop,
                        variables=variables.cli, vars_files=tuple(vars_files))
    name = loaded.scenario.name
    _report_apply(result.applied, "up", name, loaded.scenario.hosts)
    if result.applied is None:
        click.echo(f"lab {name} is up to date ({result.seconds:.2f} s)")
    else:
        n = len(result.plan.ops)
        click.echo(f"lab {name} is up: {n} change(s) in {result.seconds:.2f} s")


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@_name_option
@_vars_options
@_workers_option
@click.option("--graceful", is_flag=True, help="Stop containers with their stop timeout "
              "instead of killing them.")
@click.option("--volumes", is_flag=True, help="Also remove the lab's volumes.")
@click.option("--yes", is_flag=True, help="With no record of the lab here: remove every "
              "object labelled with its name without asking.")
def down(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
         vars_files: tuple[str, ...], workers: int | None, graceful: bool, volumes: bool,
         yes: bool) -> None:
    """Remove what the lab owns on every host (FILE, or the lab recorded here).

    Only this directory's copy of the lab (the instance in its record) is removed. With no
    record of the lab here (FILE, or -n NAME on the local engine), every object labelled
    with its name is listed, whichever copy it is, and removed once confirmed (--yes)."""
    from dnetlab.lab import records
    from dnetlab.lab.down import down as lab_down
    from dnetlab.lab.down import hosts_for
    from dnetlab.lab.progress import reporter_for
    from dnetlab.lab.session import DEFAULT_WORKERS

    if file:
        sc = _load_file(file, var_items, vars_files).scenario
        name = sc.name
    elif lab_name and records.check_name(lab_name) not in records.names():
        name, sc = lab_name, None  # no record, no file: the local engine, after asking
    else:
        name = records.pick(lab_name).name
        sc = None
    hosts = hosts_for(name, sc)
    with _interruptible() as stop:
        result = lab_down(name, hosts, reporter_for(), workers=workers or DEFAULT_WORKERS,
                          graceful=graceful, volumes=volumes, stop=stop,
                          confirm=_confirm_down(name, yes))
    if result.declined:
        click.echo(f"lab {name}: nothing was removed", err=True)
        raise SystemExit(ExitCode.FAILED)
    _report_apply(result.applied, "down", name, hosts)
    for line in result.left_behind:
        click.echo(f"warning: {line}", err=True)
    if result.plan.empty:
        click.echo(f"lab {name} is down: nothing of it was found")
    else:
        click.echo(f"lab {name} is down: {len(result.plan.ops)} object(s) removed in "
                   f"{result.seconds:.2f} s")


def _confirm_down(name: str, yes: bool) -> Callable[[Any], bool]:
    """Asked by `down` of a lab that has no record here, shown its plan: the objects carry
    the lab's name, but any copy of it may have made them (another working directory,
    another user). A terminal is asked; elsewhere only --yes says yes."""

    def confirm(plan: Any) -> bool:
        lines = [op.describe() for op in plan.ops]
        click.echo("\n  ".join([
            f"no record of lab {name} here: these objects carry its name, but another copy "
            "of the lab (another working directory or user) may own them:", *lines]), err=True)
        if yes:
            return True
        if not sys.stdin.isatty():
            from dnetlab.errors import UsageError

            raise UsageError("not removing them without a confirmation: run `dnetlab down` "
                             "where the lab was brought up, or run this again with --yes")
        # Ctrl-C at the prompt ends the command, rather than asking running steps to stop
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return click.confirm(f"remove these {len(lines)} object(s)?", default=False,
                                 err=True)
        finally:
            signal.signal(signal.SIGINT, previous)

    return confirm


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@_name_option
@_vars_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def status(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
           vars_files: tuple[str, ...], fmt: str) -> None:
    """Live containers, addresses and networks per host, and drift from the scenario."""
    from dnetlab.lab.status import status as lab_status

    st = lab_status(_recorded_scenario(file, lab_name, var_items, vars_files))
    if fmt == "json":
        click.echo(json.dumps(st.as_json(), indent=2))
        return
    from dnetlab.cli.status_view import print_status

    print_status(st)


def _report_options(f: F) -> F:
    f = click.option("--output", type=click.Path(dir_okay=False), help="Write the report "
                     "there (in --format) instead of standard output.")(f)
    f = click.option("--format", "fmt", type=click.Choice(["table", "json", "junit"]),
                     default="table", show_default=True)(f)
    return f


def _auto_option(f: F) -> F:
    return click.option("--auto", is_flag=True, help="Add derived probes: containers sharing "
                        "a network reach each other; containers on separate bridges do "
                        "not.")(f)


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@_name_option
@_vars_options
@_workers_option
@_report_options
@_auto_option
@click.option("--probe", "probe_names", multiple=True, metavar="NAME",
              help="Run only this probe (repeatable; the static probes, not the steps').")
@click.option("--steps", "with_steps", is_flag=True, help="After the probes, run the "
              "file's steps (actions, then their probes), then bring the lab back to its "
              "declared state.")
@click.option("--keep-state", is_flag=True, help="With --steps: leave the lab as the steps "
              "left it (`dnetlab up` restores it).")
@click.option("--capture-failed", "capture_dir", metavar="DIR",
              type=click.Path(file_okay=False), help="Capture each failed probe's source "
              "container (pcap, in DIR) while the probe is tried once more; the report "
              "names the file.")
@_trust_option
def verify(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
           vars_files: tuple[str, ...], workers: int | None, fmt: str, output: str | None,
           auto: bool, probe_names: tuple[str, ...], with_steps: bool, keep_state: bool,
           capture_dir: str | None, trust_once: bool) -> None:
    """Run the lab's probes; exit 0 when all pass, 1 when one fails, 3 when a host's
    engine stopped answering (its probes that had not ended are errors, the other
    results stand)."""
    from dnetlab.cli.verify_view import LiveProgress
    from dnetlab.lab.session import DEFAULT_WORKERS
    from dnetlab.lab.trust import require
    from dnetlab.lab.verify import verify as lab_verify
    from dnetlab.load.asks import asks

    if keep_state and not with_steps:
        raise click.UsageError("--keep-state goes with --steps")
    if capture_dir and with_steps:
        raise click.UsageError("--capture-failed takes the static probes' failures; run it "
                               "without --steps")
    if with_steps:
        loaded, path = _loaded_and_path(file, lab_name, var_items, vars_files)
        require(path, asks(loaded.scenario), once=trust_once, command="verify")
        report, interrupted = _run_steps(loaded, workers=workers, auto=auto,
                                         only=probe_names, keep_state=keep_state)
        _finish_verify(report, fmt, output, interrupted)
        return
    sc, path = _scenario_and_path(file, lab_name, var_items, vars_files)
    require(path, asks(sc), once=trust_once, command="verify")
    from dnetlab.lab import neighbours

    crowded = neighbours.warning(sc, neighbours.kernel_limit())
    if crowded is not None:
        click.echo(f"warning: {crowded}", err=True)
    progress = LiveProgress()
    try:
        with _interruptible() as stop:
            run = lab_verify(sc, workers=workers or DEFAULT_WORKERS, stop=stop, auto=auto,
                             only=probe_names, on_result=progress.result,
                             on_start=lambda n: progress.start(n, f"verifying lab {sc.name}"),
                             capture_dir=Path(capture_dir) if capture_dir else None)
    finally:
        progress.finish()
    _finish_verify(run.report, fmt, output, False)


def _loaded_and_path(file: str | None, lab_name: str | None, var_items: tuple[str, ...],
                     vars_files: tuple[str, ...]) -> tuple[Any, str]:
    """As `_scenario_and_path`, with the rendered text (the steps' restore runs `up`)."""
    if file:
        return _load_file(file, var_items, vars_files), file
    from dnetlab.lab import records
    from dnetlab.lab.deployed import loaded_from_record

    rec = records.pick(lab_name)
    return loaded_from_record(rec), rec.scenario_path


def _run_steps(loaded: Any, *, workers: int | None, auto: bool, only: tuple[str, ...],
               keep_state: bool, then_down: bool = False) -> tuple[Any, bool]:
    """verify --steps with live progress; the report, and whether Ctrl-C ended it."""
    from dnetlab.cli.verify_view import LiveProgress
    from dnetlab.lab.session import DEFAULT_WORKERS
    from dnetlab.lab.steps import StepCallbacks, verify_steps

    sc = loaded.scenario
    progress = LiveProgress()
    callbacks = StepCallbacks(
        on_result=progress.result,
        on_start=lambda n: progress.start(n, f"verifying lab {sc.name}"),
        on_step=lambda n, name: progress.phase(f"lab {sc.name}, step {n}: {name}"),
        on_note=lambda note: click.echo(f"dnetlab: lab {sc.name}: {note}", err=True)
        if note.startswith("failed") else None)
    try:
        with _interruptible("restoring the lab's declared state") as stop:
            run = verify_steps(loaded, workers=workers or DEFAULT_WORKERS, stop=stop,
                               auto=auto, only=only, keep_state=keep_state,
                               then_down=then_down, callbacks=callbacks)
            interrupted = stop.is_set()
    finally:
        progress.finish()
    return run.report, interrupted


def _finish_verify(report: Any, fmt: str, output: str | None, interrupted: bool) -> None:
    """Print or write the report; exit as the contract says (0, 1, 3, or 130)."""
    from dnetlab.cli.verify_view import print_table
    from dnetlab.lab.records import remember_report
    from dnetlab.lab.steps import RESTORE_FAILED
    from dnetlab.verify.export import json_text, to_junit, write_output

    if fmt == "json":
        text = json_text(report)
    elif fmt == "junit":
        text = to_junit(report)
    else:
        text = ""
    remember_report(report)
    if output:
        if fmt == "table":
            import io

            from rich.console import Console

            buf = io.StringIO()
            print_table(report, console=Console(file=buf, width=160, color_system=None))
            text = buf.getvalue()
        write_output(text, output)
        click.echo(f"{report.count('passed')} passed, {report.count('failed')} failed, "
                   f"{report.count('error')} errors; report written to {output}")
    elif fmt == "table":
        print_table(report)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    for why in report.unreachable:
        click.echo(f"dnetlab: {why}; that host's probes that had not ended are errors, "
                   "the other results stand", err=True)
    restore_failed = (report.restored or "").startswith(RESTORE_FAILED)
    if restore_failed and fmt != "table":
        click.echo(f"dnetlab: lab {report.scenario}: {report.restored}", err=True)
    if interrupted:
        click.echo("dnetlab: interrupted", err=True)
        raise SystemExit(130)
    if report.unreachable:
        raise SystemExit(ExitCode.ENVIRONMENT)
    if not report.ok or restore_failed:
        raise SystemExit(ExitCode.FAILED)


@cli.command(name="test")
@click.argument("file", type=click.Path(dir_okay=False))
@_vars_options
@_workers_option
@_report_options
@_auto_option
@click.option("--keep", is_flag=True, help="Leave the lab up afterwards, brought back to "
              "its declared state (default: take it down, whatever the verdict).")
@_trust_option
def test(file: str, var_items: tuple[str, ...], vars_files: tuple[str, ...],
         workers: int | None, fmt: str, output: str | None, auto: bool, keep: bool,
         trust_once: bool) -> None:
    """One command for CI: `up` FILE, `verify --steps`, `down` (always, unless --keep);
    exits with verify's code (or up's, when the lab could not be brought up)."""
    from dnetlab.lab.progress import reporter_for
    from dnetlab.lab.session import DEFAULT_WORKERS
    from dnetlab.lab.trust import require
    from dnetlab.lab.up import up as lab_up

    loaded = _load_file(file, var_items, vars_files)
    require(file, loaded.asks, loaded.ask_issues, once=trust_once, command="test")
    variables = _variables(var_items, vars_files, file)
    sc = loaded.scenario
    try:
        with _interruptible() as stop:
            result = lab_up(loaded, reporter_for(), workers=workers or DEFAULT_WORKERS,
                            stop=stop, variables=variables.cli, vars_files=tuple(vars_files))
        _report_apply(result.applied, "up", sc.name, sc.hosts)
        report, interrupted = _run_steps(loaded, workers=workers, auto=auto, only=(),
                                         keep_state=False, then_down=not keep)
        _finish_verify(report, fmt, output, interrupted)
    finally:
        if not keep:
            _test_down(sc, workers)


def _test_down(sc: Any, workers: int | None) -> None:
    """`test`'s last word: the lab goes, whatever happened before (a fresh Ctrl-C
    handler: the one that ended the run may have fired already)."""
    from dnetlab.lab import records
    from dnetlab.lab.down import down as lab_down
    from dnetlab.lab.progress import reporter_for
    from dnetlab.lab.session import DEFAULT_WORKERS

    if sc.name not in records.names():
        # `up` stopped before it made anything (preflight, trust): no copy here to remove,
        # and objects of the lab's name elsewhere are someone else's
        return
    with _interruptible() as stop:
        # no `confirm`: only the instance recorded here goes, never another copy's objects
        result = lab_down(sc.name, sc.hosts, reporter_for(),
                          workers=workers or DEFAULT_WORKERS, stop=stop)
    if result.applied is not None and not result.applied.ok:
        click.echo(f"dnetlab: lab {sc.name}: `down` failed; run `dnetlab down` to finish it",
                   err=True)
    else:
        click.echo(f"lab {sc.name} is down", err=True)


@cli.command(name="ls")
def ls_() -> None:
    """The labs recorded in .dnetlab/ here, and whether they are up."""
    from dnetlab.lab import records
    from dnetlab.lab.deployed import scenario_from_record
    from dnetlab.lab.status import status as lab_status

    names = records.names()
    if not names:
        click.echo("no labs recorded here")
        return
    for n in names:
        rec = records.load(n)
        try:
            st = lab_status(scenario_from_record(rec))
            running = sum(1 for c in st.containers if c.state == "running")
            state = "up" if st.up_to_date else (
                "down" if running == 0 else f"drifted ({len(st.plan.ops)} pending changes)")
            detail = f"{running}/{len(st.containers)} containers running"
        except DnetlabError as exc:
            state, detail = "unreachable", exc.message
        click.echo(f"{n:24} {state:12} {detail}  ({rec.scenario_path})")



def _interrupted_message() -> str:
    hint = _AFTER_INTERRUPT.get(_state["command"] or "")
    return "dnetlab: interrupted" + (f"; {hint}" if hint else "")


def _sigterm_as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become messages and exit codes, never tracebacks."""
    # SIGTERM before a command installs its own handler must end as cleanly as Ctrl-C
    # does (exit 130, locks released), not kill the process mid-way
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    # known before click parses anything, for a Ctrl-C that comes that early; group
    # options take no values, so the first command name among the arguments is the command
    _state["command"] = next((a for a in (sys.argv[1:] if argv is None else argv)
                              if a in cli.list_commands(None)), None)
    if os.environ.get("_DNETLAB_COMPLETE"):
        # the shell asks for candidates: only then are they attached (an import that
        # every `dnetlab` start would pay otherwise)
        from dnetlab.cli.complete import install

        install(cli)
    code: int = ExitCode.OK
    try:
        cli.main(args=argv, prog_name="dnetlab", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # click turns a KeyboardInterrupt raised inside a command into Abort
        click.echo(_interrupted_message(), err=True)
        # Not sys.exit as the program: CPython remembers a KeyboardInterrupt that hit an
        # exec() of source text (dataclasses and namedtuple build their methods that way,
        # so an early Ctrl-C lands there) and then ends the process by SIGINT whatever
        # code we exit with. Everything that holds a lock or a terminal has been unwound.
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code
    except ScenarioInvalid as exc:
        _print_issues(exc.issues)
        code = exc.exit_code
    except DnetlabError as exc:
        click.echo(f"dnetlab: {exc.message}", err=True)
        code = exc.exit_code
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # sys.exit("message"), as Python itself would: the message, exit 1
            click.echo(str(exc.code), err=True)
            code = 1
    except Exception as exc:
        if _state["debug"]:
            raise
        click.echo(f"dnetlab: internal error: {type(exc).__name__}: {exc}\n"
                   "This is a bug in dnetlab; run again with --debug for the traceback and "
                   "report it.", err=True)
        code = ExitCode.FAILED
    _leave(int(code), as_program=argv is None)


def _leave(code: int, as_program: bool) -> None:
    """End with `code`. Called with arguments, main runs inside another program: leave
    that one alive. As the program, the work is done, every file written and closed, every
    lock released: the interpreter's teardown of its modules (25-30 ms with the SDK
    loaded, a tenth of a small lab's `up`) does nothing a user can see, so it is skipped
    once the output is flushed."""
    if not as_program:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or ExitCode.FAILED
    os._exit(code)
