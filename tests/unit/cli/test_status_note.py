"""`status` says whose objects it shows when that is not simply this directory's lab."""

from __future__ import annotations

from dnetlab.cli.status_view import instance_note
from dnetlab.lab.status import LabStatus
from dnetlab.labels import Owner
from dnetlab.reconcile.plan import Plan


def _status(owner: Owner, seen: tuple[str, ...]) -> LabStatus:
    return LabStatus("demo", (), (), Plan("demo", ()), owner, seen)


def test_no_record_here_says_any_instance_and_lists_them() -> None:
    note = instance_note(_status(Owner("demo", None), ("", "0123456789ab")))
    assert note == (
        "no record of lab demo here: showing its objects of any instance (a copy brought up "
        "elsewhere, or by another user); instances: no instance label (made by a dnetlab "
        "older than instances, or by hand), instance 0123456789ab")
    assert instance_note(_status(Owner("demo", None), ())).endswith("instances: none found")


def test_a_recorded_lab_mentions_other_copies_only() -> None:
    assert instance_note(_status(Owner("demo", "0123456789ab"), ("0123456789ab",))) == ""
    assert instance_note(_status(Owner("demo", "0123456789ab"),
                                 ("0123456789ab", "ba9876543210"))) == (
        "also on these hosts, not shown: other copies of lab demo (instance ba9876543210)")
    assert _status(Owner("demo", None), ()).as_json()["instance"] is None
