"""`pip install .` gives a working dnetlab with the schema inside the wheel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_schema_and_runs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, symlinks=True,
                    ignore=shutil.ignore_patterns(".venv", ".git", "*.egg-info", "build",
                                                  "__pycache__", ".*_cache", ".hypothesis"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(src)], check=True, timeout=300,
                   capture_output=True)
    (wheel,) = wheels.glob("dnetlab-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "dnetlab/schemas/scenario.schema.json" in names
        shipped = zf.read("dnetlab/schemas/scenario.schema.json")
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "dnetlab = dnetlab.cli:main" in zf.read(entry_points).decode()
    assert shipped == (ROOT / "schemas/scenario.schema.json").read_bytes()
    # Run the packaged code from the unpacked wheel alone, not from the work tree.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    done = subprocess.run([sys.executable, "-c", "from dnetlab.cli import main; main()", "schema"],
                          cwd=tmp_path, env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.encode() == shipped
