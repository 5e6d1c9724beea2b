"""The validate / render / schema commands and the CLI's error contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[3]
STATIC = str(ROOT / "scenarios/static-ip.yaml")


def test_schema_command_prints_the_shipped_schema(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("schema")
    assert code == 0
    printed = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed == json.loads((ROOT / "schemas/scenario.schema.json").read_text())


def test_render_prints_rendered_yaml_with_var_override(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("render", str(ROOT / "scenarios/overlay.yaml"),
                           "--var", "manager_addr=10.99.0.21")
    assert code == 0
    assert "engine: \"ssh://root@10.99.0.21\"" in out
    assert "{{" not in out


def test_render_error_exits_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "s.yaml"
    f.write_text("x: {{ nope }}\n")
    code, out, err = run_cli("render", str(f))
    assert code == 2 and out == ""
    assert err.startswith(f"{f}:1:7: (file): undefined template variable 'nope'")


def test_bad_var_syntax_is_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("validate", STATIC, "--var", "novalue")
    assert code == 2
    assert "expected KEY=VALUE" in err


def test_validate_several_files_reports_each(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: lab\ncontainers: {a: {imag: x}}\n")
    code, out, err = run_cli("validate", STATIC, str(bad))
    assert code == 2
    assert f"{STATIC}: ok:" in out
    assert f"{bad}:3:" in err and "did you mean 'image'?" in err


def test_validate_with_vars_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    vf = tmp_path / "vars.yaml"
    vf.write_text("manager_addr: 10.99.0.31\n")
    code, out, _ = run_cli("validate", str(ROOT / "scenarios/overlay.yaml"), "--vars-file", str(vf))
    assert code == 0, out


def test_unknown_command_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("frobnicate")
    assert code == 2
    assert "No such command" in err


def test_console_script_runs_out_of_process() -> None:
    exe = Path(sys.executable).parent / "dnetlab"
    assert exe.exists(), "the console script is installed with the package"
    done = subprocess.run([str(exe), "validate", STATIC], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0
    for command in ("validate", "render", "schema"):
        assert command in done.stdout


def test_help_does_not_import_heavy_modules() -> None:
    code = ("import sys; from dnetlab.cli.commands import cli; "
            "heavy = [m for m in ('docker', 'paramiko', 'jsonschema', 'jinja2', 'rich', 'yaml') "
            "if m in sys.modules]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("args", [("validate",), ("render",)])
def test_missing_argument_is_usage_error(run_cli, args: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(*args)
    assert code == 2
    assert "Missing argument" in err


def test_lazy_commands_load_only_when_asked_and_list_their_own_help() -> None:
    import subprocess
    import sys

    import click

    from dnetlab.cli.commands import LAZY, cli

    # a fresh interpreter: `dnetlab --help` leaves the lazy modules unloaded
    probe = ("import sys; from dnetlab.cli import commands; "
             "commands.cli.main(['--help'], standalone_mode=False); "
             "print(sorted(m for m in sys.modules if m.endswith('_cmd')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
    for name in LAZY:
        assert name in done.stdout
    # the one-line help kept in LAZY is the command's own
    for name, (_module, short) in LAZY.items():
        cmd = cli.get_command(click.Context(cli), name)
        assert cmd is not None
        own = cmd.get_short_help_str(300)
        assert own.startswith(short.rstrip(".")), (name, own)
