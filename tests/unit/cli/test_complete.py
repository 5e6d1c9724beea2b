"""Shell completion as the shells ask for it: the installed console script run with
click's completion variables (COMP_WORDS, COMP_CWORD, _DNETLAB_COMPLETE)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnetlab.lab import records

SCRIPT = Path(sys.executable).parent / "dnetlab"
LAB = """version: 1
name: {name}
networks:
  front: {{subnet: 10.234.0.0/24}}
  back: {{subnet: 10.234.1.0/24}}
containers:
  c1:
    image: busybox
    networks: {{front: {{ipv4: 10.234.0.11}}}}
  c2:
    image: busybox
    networks: {{front: {{}}, back: {{}}}}
  {extra}: {{image: busybox, networks: {{back: {{}}}}}}
probes:
  - {{type: ping, from: c1, to: c2}}
  - {{type: tcp, from: c2, to: c1, port: 80, expect: closed, name: no-web}}
"""


def _record(root: Path, name: str, extra: str = "r1") -> None:
    records.save(records.Record(
        name=name, scenario_path=str(root / f"{name}.yaml"),
        rendered=LAB.format(name=name, extra=extra), variables={}, vars_files=(),
        hosts=(records.HostRecord("local", None),), state="up", updated_at=0.0), root)


def complete(cwd: Path, line: str, shell: str = "bash") -> list[str]:
    """The candidates for the last word of `line` (a trailing space: a new word)."""
    words = line.split(" ")
    env = {**os.environ, "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1),
           "_DNETLAB_COMPLETE": f"{shell}_complete"}
    res = subprocess.run([str(SCRIPT)], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    return [line for line in res.stdout.splitlines() if line]


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    assert SCRIPT.exists(), "the console script is installed with pip install -e ."
    _record(tmp_path, "alpha")
    return tmp_path


def test_commands_and_options(lab: Path) -> None:
    assert complete(lab, "dnetlab inv") == ["plain,inventory"]
    assert "plain,verify" in complete(lab, "dnetlab ")
    assert complete(lab, "dnetlab inventory --f") == ["plain,--format"]
    assert complete(lab, "dnetlab inventory --format ") == ["plain,ansible", "plain,json"]


def test_scenario_files_and_directories(lab: Path) -> None:
    for name in ("a.yaml", "b.yml", "notes.txt", ".hidden.yaml"):
        (lab / name).write_text("")
    (lab / "sub").mkdir()
    (lab / "sub" / "deep.yaml").write_text("")
    assert complete(lab, "dnetlab up ") == ["dir,", "plain,a.yaml", "plain,b.yml"]
    assert complete(lab, "dnetlab validate sub/") == ["dir,sub/", "plain,sub/deep.yaml"]
    assert complete(lab, "dnetlab status nothing/") == []  # no such folder: nothing


def test_recorded_containers_probes_and_labs(lab: Path) -> None:
    assert complete(lab, "dnetlab exec ") == ["plain,c1", "plain,c2", "plain,r1"]
    assert complete(lab, "dnetlab exec c") == ["plain,c1", "plain,c2"]
    # bash puts the candidate on the line as it is: a name with spaces comes quoted
    assert complete(lab, "dnetlab verify --probe ") == ["plain,'ping c1 -> c2'",
                                                       "plain,no-web"]
    assert complete(lab, "dnetlab verify --probe n") == ["plain,no-web"]
    zsh = complete(lab, "dnetlab verify --probe p", shell="zsh")
    assert zsh == ["plain", "ping c1 -> c2", "ping"]  # type, value, description
    _record(lab, "beta", extra="b9")
    assert complete(lab, "dnetlab down -n ") == ["plain,alpha", "plain,beta"]
    assert complete(lab, "dnetlab exec -n beta c1 -- true") == []  # past the argument
    # -n given first: that lab's containers; none given: every recorded lab's
    assert complete(lab, "dnetlab exec -n beta ") == ["plain,c1", "plain,c2", "plain,b9"]
    assert complete(lab, "dnetlab exec ") == ["plain,c1", "plain,c2", "plain,r1", "plain,b9"]


def test_fish_and_zsh_source_and_fast(lab: Path) -> None:
    for shell, marker in (("bash", "complete -o nosort -F"), ("zsh", "#compdef dnetlab"),
                          ("fish", "complete --no-files --command dnetlab")):
        env = {**os.environ, "_DNETLAB_COMPLETE": f"{shell}_source"}
        out = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True,
                             check=True, timeout=60).stdout
        assert marker in out
    started = time.monotonic()
    complete(lab, "dnetlab verify --probe ")
    assert time.monotonic() - started < 3  # reads the record, never an engine


def test_a_damaged_record_or_no_record_offers_nothing_quietly(tmp_path: Path) -> None:
    assert complete(tmp_path, "dnetlab exec ") == []
    d = tmp_path / ".dnetlab"
    d.mkdir()
    (d / "broken.json").write_text("{not json")
    assert complete(tmp_path, "dnetlab exec ") == []
    assert complete(tmp_path, "dnetlab verify --probe ") == []
    assert complete(tmp_path, "dnetlab ls -n ") == []  # ls has no -n: click offers nothing
