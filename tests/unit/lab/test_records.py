""".dnetlab/ may come with a shared repository: records are private, never followed
through a link, checked when read, and trusted only when this user's dnetlab wrote them."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from dnetlab.errors import UsageError
from dnetlab.lab import instance, records
from dnetlab.labels import Owner

RunCli = object  # the run_cli fixture's type, for readability only

PLAIN = """version: 1
name: demo
containers:
  c1: {image: busybox}
"""


def _record(name: str = "demo", rendered: str = PLAIN) -> records.Record:
    return records.Record(name=name, scenario_path="/somewhere/demo.yaml", rendered=rendered,
                          variables={"token": "s3cret"}, vars_files=(),
                          hosts=(records.HostRecord("local", None),), state="up",
                          updated_at=1.0)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_records_and_their_directory_are_private(tmp_path: Path) -> None:
    path = records.save(_record(), tmp_path)
    assert _mode(tmp_path / ".dnetlab") == 0o700
    assert _mode(path) == 0o600
    with records.locked("demo", tmp_path):
        assert _mode(tmp_path / ".dnetlab" / "demo.lock") == 0o600


def test_a_wide_open_record_directory_is_made_private(tmp_path: Path) -> None:
    (tmp_path / ".dnetlab").mkdir(mode=0o777)
    os.chmod(tmp_path / ".dnetlab", 0o777)
    records.save(_record(), tmp_path)
    assert _mode(tmp_path / ".dnetlab") == 0o700


def test_a_planted_lock_symlink_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    (tmp_path / ".dnetlab").mkdir()
    (tmp_path / ".dnetlab" / "demo.lock").symlink_to(target)
    with pytest.raises(UsageError, match=r"demo.lock is a symlink.*remove it"), \
            records.locked("demo", tmp_path):
        pass
    assert target.read_text() == "keep me\n"


def test_a_planted_tmp_symlink_does_not_receive_the_record(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    target.write_text("keep me\n")
    (tmp_path / ".dnetlab").mkdir()
    (tmp_path / ".dnetlab" / "demo.json.tmp").symlink_to(target)
    path = records.save(_record(), tmp_path)
    assert target.read_text() == "keep me\n"  # the --var values did not go there
    assert not path.is_symlink() and stat.S_ISREG(path.lstat().st_mode)
    assert records.load("demo", tmp_path).variables == {"token": "s3cret"}


def test_a_record_symlink_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"name": "demo"}))
    (tmp_path / ".dnetlab").mkdir()
    (tmp_path / ".dnetlab" / "demo.json").symlink_to(outside)
    with pytest.raises(UsageError, match="is a symlink"):
        records.load("demo", tmp_path)


def test_a_symlinked_record_directory_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / ".dnetlab").symlink_to(elsewhere)
    with pytest.raises(UsageError, match="not a directory"):
        records.save(_record(), tmp_path)
    with pytest.raises(UsageError, match="is a symlink"):
        records.names(tmp_path)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("name", ["../../outside", "/etc/passwd", "Demo", "a" * 40, "",
                                  "demo\n", ".hidden", "demo/../x"])
def test_names_that_are_not_lab_names_never_reach_a_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(UsageError, match="is not a lab name"):
        records.load(name, tmp_path)
    with pytest.raises(UsageError, match="is not a lab name"):
        records.forget(name, tmp_path)


def test_a_record_naming_a_path_is_damaged_and_deletes_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    (tmp_path / "work").mkdir()
    d = tmp_path / "work" / ".dnetlab"
    d.mkdir()
    data = json.loads(json.dumps(records.save(_record(), tmp_path / "work").read_text()))
    bad = json.loads(data)
    bad["name"] = "../../outside"
    (d / "demo.json").write_text(json.dumps(bad))
    with pytest.raises(UsageError, match=r"damaged \(it names another lab"):
        records.load("demo", tmp_path / "work")
    assert outside.exists()


@pytest.mark.parametrize(("edit", "why"), [
    (lambda d: d.pop("rendered"), "no 'rendered'"),
    (lambda d: d.update(rendered=7), "'rendered' is not text"),
    (lambda d: d.update(hosts="local"), "'hosts' is not a list"),
    (lambda d: d.update(hosts=[{"engine": None}]), "a host without a 'key'"),
    (lambda d: d.update(variables={"a": 1}), "'variables' holds something other than text"),
    (lambda d: d.update(updated_at=True), "'updated_at' is not a number"),
    (lambda d: d.update(instance=7), "'instance' is not text"),
    (lambda d: d.update(instance="../x"), "'instance' '../x' is not a short hexadecimal id"),
    (lambda d: d.update(instance="ABCDEF"), "is not a short hexadecimal id"),
    (lambda d: d.update(instance="a" * 33), "is not a short hexadecimal id"),
])
def test_a_damaged_record_is_a_clear_error_with_the_fix(tmp_path: Path, edit: object,
                                                        why: str) -> None:
    path = records.save(_record(), tmp_path)
    data = json.loads(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))
    with pytest.raises(UsageError) as exc:
        records.load("demo", tmp_path)
    assert why in exc.value.message
    assert f"rm {path}" in exc.value.message and "dnetlab down FILE" in exc.value.message


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", "\udcff"])
def test_a_truncated_or_corrupted_record_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = records.save(_record(), tmp_path)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(UsageError, match="is damaged"):
        records.load("demo", tmp_path)


def test_only_records_this_user_wrote_vouch_for_their_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = records.sealed(_record())
    assert records.vouched(mine)
    assert not records.vouched(_record())  # unsealed: as a committed record would be
    assert not records.vouched(replace(mine, rendered=PLAIN + "# edited\n"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "another-user"))
    assert not records.vouched(mine)  # another user's key


def test_an_unsealed_record_does_not_skip_the_schema(run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # schema-only errors: without the schema these would pass build and semantics
    text = PLAIN.replace("name: demo", "name: demo\nextra_key: 1")
    scenario = tmp_path / "demo.yaml"
    scenario.write_text(text)
    records.save(_record(rendered=text), tmp_path)  # as if committed with the repository
    monkeypatch.chdir(tmp_path)
    code, _out, err = run_cli("up", str(scenario))
    assert code == 2, err
    assert "extra_key" in err and "Traceback" not in err


def test_down_of_a_damaged_record_is_exit_2_not_an_internal_error(
        run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    path = records.save(_record(), tmp_path)
    data = json.loads(path.read_text())
    del data["hosts"][0]["key"]
    path.write_text(json.dumps(data))
    monkeypatch.chdir(tmp_path)
    for command in (("down",), ("status",), ("verify",)):
        code, _out, err = run_cli(*command)
        assert code == 2, (command, err)
        assert "is damaged" in err and "internal error" not in err


# --- the lab's instance (spec 10.5) -----------------------------------------------------

def test_the_instance_is_kept_in_the_record(tmp_path: Path) -> None:
    records.save(replace(_record(), instance="0123456789ab"), tmp_path)
    assert records.load("demo", tmp_path).instance == "0123456789ab"
    assert instance.for_up("demo", tmp_path) == "0123456789ab"
    assert instance.owner_here("demo", tmp_path) == Owner("demo", "0123456789ab")


def test_a_record_of_an_older_dnetlab_has_no_instance(tmp_path: Path) -> None:
    """Its objects carry no instance label: "" matches exactly those, so the lab still goes
    down, and `up` keeps making its objects that way."""
    path = records.save(_record(), tmp_path)
    data = json.loads(path.read_text())
    del data["instance"]
    path.write_text(json.dumps(data))
    assert records.load("demo", tmp_path).instance == ""
    assert instance.for_up("demo", tmp_path) == ""
    assert instance.owner_here("demo", tmp_path) == Owner("demo", "")


def test_without_a_record_up_makes_a_new_instance_and_others_act_on_any(tmp_path: Path) -> None:
    first, second = instance.for_up("demo", tmp_path), instance.for_up("demo", tmp_path)
    assert len(first) == 12 and int(first, 16) >= 0 and first != second
    assert instance.owner_here("demo", tmp_path) == Owner("demo", None)


def test_down_keeps_the_instance_for_the_next_up_here(tmp_path: Path) -> None:
    """`down` leaves volumes unless --volumes: the next `up` here must own them again."""
    records.save(replace(_record(), instance="0123456789ab"), tmp_path)
    records.keep_instance("demo", "0123456789ab", tmp_path)
    records.forget("demo", tmp_path)
    assert records.names(tmp_path) == []
    assert _mode(tmp_path / ".dnetlab" / "demo.instance") == 0o600
    assert instance.for_up("demo", tmp_path) == "0123456789ab"
    assert instance.owner_here("demo", tmp_path) == Owner("demo", None)  # no record: any
    records.keep_instance("demo", "", tmp_path)  # an older lab's "": nothing to keep
    assert records.kept_instance("demo", tmp_path) == "0123456789ab"


@pytest.mark.parametrize("text", ["", "not hex\n", "../../x", "\udcff"])
def test_a_damaged_kept_instance_is_a_clear_error(tmp_path: Path, text: str) -> None:
    (tmp_path / ".dnetlab").mkdir()
    path = tmp_path / ".dnetlab" / "demo.instance"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(UsageError, match=r"is damaged.*rm "):
        instance.for_up("demo", tmp_path)


def test_a_kept_instance_symlink_is_neither_read_nor_written_through(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    (tmp_path / ".dnetlab").mkdir()
    (tmp_path / ".dnetlab" / "demo.instance").symlink_to(target)
    with pytest.raises(UsageError, match="is a symlink"):
        records.kept_instance("demo", tmp_path)
    records.keep_instance("demo", "0123456789ab", tmp_path)  # replaces the link itself
    assert target.read_text() == "keep me\n"
    assert records.kept_instance("demo", tmp_path) == "0123456789ab"
