"""Impairments in the plan: applied on new interfaces, judged on what was read back from
running containers, never a reason to recreate a container."""

from __future__ import annotations

import dataclasses

from dnetlab.model import Impairment
from dnetlab.reconcile.desired import desired_state
from dnetlab.reconcile.observed import HostObserved
from dnetlab.reconcile.plan import Phase, impairment_drift, reconcile
from tests.unit.reconcile.test_plan import (
    DEMO,
    INSTANCE,
    change_container,
    deploy,
    empty_engine,
    scenario,
    stopped,
)

TEXT = """
version: 1
name: demo
networks:
  lan: {subnet: 10.10.0.0/24, impair: {loss: 30}}
  dmz: {subnet: 10.20.0.0/24}
containers:
  web:
    image: busybox
    networks: {lan: {ipv4: 10.10.0.10, impair: {rate: 1mbit}}, dmz: {ipv4: 10.20.0.10}}
  client:
    image: busybox
    networks: [lan]
"""

RATE = Impairment(rate_bps=1_000_000)
LOSS = Impairment(loss=30.0)


def _read(obs: dict[str, HostObserved], found: dict[tuple[str, str], Impairment],
          names: tuple[str, ...] = ("demo-web", "demo-client")) -> dict[str, HostObserved]:
    o = obs["local"]
    return {"local": dataclasses.replace(o, impairments=tuple(found.items()),
                                         impairments_read=frozenset(names))}


def _lines(sc_text: str, obs: dict[str, HostObserved]) -> list[str]:
    sc = scenario(sc_text)
    plan = reconcile(DEMO, desired_state(sc, INSTANCE), obs, sc.hosts)
    return sorted(op.describe() for op in plan.ops)


def test_fresh_lab_impairs_after_the_containers_start() -> None:
    sc = scenario(TEXT)
    plan = reconcile(DEMO, desired_state(sc, INSTANCE), empty_engine(sc), sc.hosts)
    imp = [op for op in plan.ops if op.action == "impair"]
    assert sorted(op.describe() for op in imp) == [
        "impair demo-client on demo-lan [local]: new interface (loss 30%)",
        "impair demo-web on demo-lan [local]: new interface (rate 1mbit)",
    ]
    assert {op.phase for op in imp} == {Phase.IMPAIR}
    assert max(op.phase for op in plan.ops if op.action != "impair") < Phase.IMPAIR


def test_impairments_in_place_are_up_to_date() -> None:
    obs = _read(deploy(scenario(TEXT), with_foreign=False),
                {("demo-web", "demo-lan"): RATE, ("demo-web", "demo-dmz"): Impairment(),
                 ("demo-client", "demo-lan"): LOSS})
    assert _lines(TEXT, obs) == []


def test_missing_and_drifted_impairments_are_repaired_in_place() -> None:
    obs = _read(deploy(scenario(TEXT), with_foreign=False),
                {("demo-web", "demo-lan"): Impairment(rate_bps=2_000_000),
                 ("demo-client", "demo-lan"): Impairment()})
    assert _lines(TEXT, obs) == [
        "impair demo-client on demo-lan [local]: impairment missing (loss 30%)",
        "impair demo-web on demo-lan [local]: impairment drift: rate",
    ]


def test_an_impairment_dropped_from_the_file_is_healed() -> None:
    text = TEXT.replace(", impair: {rate: 1mbit}", "")
    obs = _read(deploy(scenario(text), with_foreign=False),
                {("demo-web", "demo-lan"): RATE, ("demo-client", "demo-lan"): LOSS})
    assert _lines(text, obs) == [
        "impair demo-web on demo-lan [local]: impairment drift: rate, loss",
    ]
    text = text.replace(", impair: {loss: 30}", "")
    assert _lines(text, obs) == [
        "heal demo-client on demo-lan [local]: impairment not in scenario (loss 30%)",
        "heal demo-web on demo-lan [local]: impairment not in scenario (rate 1000000bit)",
    ]


def test_changing_an_impairment_never_recreates_the_container() -> None:
    sc_a, sc_b = scenario(TEXT), scenario(TEXT.replace("rate: 1mbit", "rate: 5mbit"))
    a, b = desired_state(sc_a, INSTANCE)["local"], desired_state(sc_b, INSTANCE)["local"]
    assert [c.config_hash for c in a.containers] == [c.config_hash for c in b.containers]


def test_not_read_means_not_judged_and_a_restart_reapplies() -> None:
    obs = deploy(scenario(TEXT), with_foreign=False)
    assert _lines(TEXT, obs) == []  # nothing read back: nothing to say
    obs = change_container(obs, "c-web", stopped())
    assert _lines(TEXT, obs) == [
        "impair demo-web on demo-lan [local]: new interface (rate 1mbit)",
        "start container demo-web [local]: not running (exited)",
    ]


def test_containers_read_include_those_the_last_up_impaired() -> None:
    before = scenario(TEXT)
    after = scenario(TEXT.replace(", impair: {rate: 1mbit}", "").replace(
        ", impair: {loss: 30}", ""))
    assert desired_state(after, INSTANCE)["local"].impair_read == frozenset()
    assert desired_state(after, INSTANCE, before)["local"].impair_read == frozenset(
        {"demo-web", "demo-client"})


def test_drift_tolerates_tcs_rounding() -> None:
    assert impairment_drift(Impairment(rate_bps=1_500_000), Impairment(rate_bps=1_500_000)) == []
    assert impairment_drift(Impairment(rate_bps=1_000_000), Impairment(rate_bps=1_010_000)) == []
    assert impairment_drift(Impairment(loss=30.0), Impairment(loss=29.0)) == ["loss"]
    assert impairment_drift(Impairment(delay=20.0, jitter=5.0), Impairment(delay=20.0)) == [
        "jitter"]


def test_containers_read_include_those_a_step_impairs() -> None:
    from dnetlab.model import Action, Step

    plain = scenario(TEXT.replace(", impair: {rate: 1mbit}", "").replace(
        ", impair: {loss: 30}", ""))
    step = Step("slow", 0, (Action("impair", container="web", network="dmz", impair=RATE),
                            Action("heal", container="client", network="lan")))
    with_step = dataclasses.replace(plain, steps=(step,))
    # a heal leaves nothing to read back; an impair may leave what the file lacks
    assert desired_state(with_step, INSTANCE)["local"].impair_read == frozenset({"demo-web"})
    assert desired_state(plain, INSTANCE, with_step)["local"].impair_read == frozenset(
        {"demo-web"})
