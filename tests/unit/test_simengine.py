"""The simulated engine of the 100-host model (bench/simengine.py, bench/model_bench.py):
dnetlab's real up, verify and down run against it, and it must see the calls the plan
implies, per host, and the SSH channels the real code opens. Costs are zero here: nothing
is timed (the model's figures are checked against real runs in `make bench`)."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import model_bench as mb  # noqa: E402
import simengine as se  # noqa: E402

from dnetlab.engine import hostexec  # noqa: E402
from dnetlab.probes.base import Command  # noqa: E402
from dnetlab.verify import batch  # noqa: E402

ADDRS = [f"10.99.{h % 2}.{h + 1}" for h in range(6)]
FREE = se.Costs({}, {}, 0.0, 0.0, 0.0, parallel=8.0)


def run(n: int, tmp_path: Path, probes: tuple[str, ...] = ()) -> dict[str, mb.Phase]:
    got, _ = mb.simulate(FREE, n, ADDRS, tmp_path, scale=1.0, probes=probes)
    return got


def test_the_model_makes_the_calls_of_the_plan_on_each_host(tmp_path: Path) -> None:
    got = run(3, tmp_path)
    up = se.per_host(got["up"][2])
    for h in ("h1", "h2", "h3"):
        assert up[h]["create_container"] == up[h]["start"] == 10
        assert up[h]["connect"] == 1  # one connection per host, per command
    assert up["h1"]["init_swarm"] == up["h1"]["create_network"] == 1
    assert up["h1"]["inspect_swarm"] == 2  # a join token for each worker
    assert [up[h]["join_swarm"] for h in ("h1", "h2", "h3")] == [0, 1, 1]
    down = se.per_host(got["down"][2])
    assert [down[h]["remove_container"] for h in ("h1", "h2", "h3")] == [10, 10, 10]
    # the overlay on its manager; on every host the docker_gwbridge the swarm made
    assert [down[h]["remove_network"] for h in ("h1", "h2", "h3")] == [2, 1, 1]
    assert [down[h]["leave_swarm"] for h in ("h1", "h2", "h3")] == [1, 1, 1]
    # verify: the 10 sources of a host go in one SSH command of 10 docker execs
    sessions = [c for c in got["verify"][2] if c.kind == se.SESSION]
    assert sorted((c.host, c.jobs) for c in sessions) == [("h1", 10), ("h2", 10), ("h3", 10)]


def test_three_managers_remove_the_overlay_once(tmp_path: Path) -> None:
    """Every manager lists the lab's overlay; down removes it on one (the others' removal
    failed with 'not found' before: the model found it, the test bed confirmed it)."""
    got = run(6, tmp_path)  # down raised when a removal failed
    assert se.per_host(got["down"][2])["h1"]["remove_network"] == 2  # + docker_gwbridge
    assert [se.per_host(got["down"][2])[f"h{h}"]["remove_network"] for h in range(2, 7)] == [
        1, 1, 1, 1, 1]
    assert se.kinds(got["up"][2])["join_swarm"] == 5
    tokens = [c for c in got["up"][2] if c.kind == "inspect_swarm"]
    assert {c.host for c in tokens} == {"h1"}


def test_channels_are_counted_as_the_sdk_pools_them(tmp_path: Path) -> None:
    got = run(3, tmp_path, probes=("ping h1c0 -> h2c0",))
    # verify: one channel per host for the connection (its first request), one SSH session
    # per host with sources
    assert got["verify"][1] == 3 + 3
    assert got["verify_one"][1] == 3 + 1
    # up: one per connection at least, at most one per request in flight on a host
    assert 3 <= got["up"][1] <= 3 * mb.WORKERS


def test_hosts_that_give_engine_channels_run_the_first_sources_attached(
        tmp_path: Path) -> None:
    """Calibrated on hosts that give channels to the engine's socket (an `exec_attach`
    cost), the fake gives them too, and verify runs the first ATTACH_MAX sources of a
    host as attached execs, each on a channel of its own, the rest in one SSH command."""
    from dnetlab.engine.exec import ATTACH_MAX, CHANNELS_PER_CALL

    costs = se.Costs({se.SSH: {se.ATTACH: 0.0}}, {}, 0.0, 0.0, 0.0, parallel=8.0)
    got, _ = mb.simulate(costs, 3, ADDRS, tmp_path, scale=1.0, probes=())
    calls = got["verify"][2]
    per = se.per_host(calls)
    for h in ("h1", "h2", "h3"):  # create, start and status on the exec's own channel
        assert per[h][se.ATTACH] == ATTACH_MAX
        assert per[h]["exec_create"] == per[h]["exec_inspect"] == 0
    sessions = [c for c in calls if c.kind == se.SESSION]
    assert sorted((c.host, c.jobs) for c in sessions) == [
        (h, 10 - ATTACH_MAX) for h in ("h1", "h2", "h3")]
    # each host: its connection's channel, the socket's query, one per attached exec, the
    # command's session
    assert got["verify"][1] == 3 * (2 + ATTACH_MAX + 1) <= 3 * (2 + CHANNELS_PER_CALL)


def test_slots_go_in_the_order_asked_for() -> None:
    """The thread that gives a slot back and asks again at once waits behind the ones
    already waiting (a plain semaphore let it take the slot again: two workers did all
    the work while six waited, and the model's channel counts were half the real)."""
    slots = se.Slots(1)
    order: list[str] = []

    def worker(name: str) -> None:
        with slots:
            order.append(name)

    def queued(n: int) -> None:
        deadline = time.monotonic() + 5
        while len(slots._waiting) < n and time.monotonic() < deadline:
            time.sleep(0.001)

    with slots:
        waiting = []
        for n, name in enumerate(("b", "c"), start=1):  # b asks first, then c
            waiting.append(threading.Thread(target=worker, args=(name,)))
            waiting[-1].start()
            queued(n)
    with slots:  # asked for again at once: after b and c
        order.append("a")
    for t in waiting:
        t.join(5)
    assert order == ["b", "c", "a"]


def test_every_worker_gets_its_requests_in_on_every_host(tmp_path: Path) -> None:
    """8 workers, 10 containers a host, 2 slots on the one machine: each host gets a
    request from each worker in flight at some time, so a channel each (8), plus the
    socket's query: as the real 3-host runs count (9 a host; 4 with a plain semaphore)."""
    costs = se.Costs({se.SSH: {se.ATTACH: 0.001, "create_container": 0.02,
                               "start": 0.02, "remove_container": 0.02}},
                     {}, 0.0, 0.0, 0.0, parallel=2.0)
    got, _ = mb.simulate(costs, 3, ADDRS, tmp_path, scale=1.0, probes=())
    for phase in ("up", "down"):  # a worker a moment late on a loaded machine: one less
        assert 3 * mb.WORKERS <= got[phase][1] <= 3 * (1 + mb.WORKERS), phase


def test_the_fake_answers_the_real_batch_and_host_scripts() -> None:
    token = batch.new_token()
    cmds = [Command("ping -c 2 -A -W 1 -w 4 10.0.0.1", ("ping",)),
            Command("nslookup x", ("nslookup",))]
    script = batch.script(cmds, token)
    parsed = batch.parse(se.run_batch(script), token)
    assert set(parsed.results) == {0, 1}
    assert "2 packets transmitted, 2 packets received" in parsed.results[0].output
    mark = hostexec.new_mark()
    jobs = [hostexec.Job(f"c{i}", script) for i in range(3)]
    found = se._exec_jobs(hostexec.host_script(jobs, mark, 8))
    assert [(c, script in inner) for c, inner in found] == [(f"c{i}", True) for i in range(3)]


def test_costs_round_trip_through_results_json() -> None:
    flat = {"model_cal_ssh_start_s": 0.4, "model_cal_ssh_create_container_s": 0.1,
            "model_cal_ssh_connect_s": 0.5, "model_cal_local_start_s": 0.1,
            "model_cal_ssh_channel_s": 0.3, "model_cal_ssh_session_base_s": 0.2,
            "model_cal_ssh_session_job_s": 0.05, "model_cal_parallel": 2.0,
            "model_cal_gwbridge_linger_s": 1.5, "model_cal_attach_busy": 0.5}
    costs = se.Costs.from_flat(flat)
    assert costs.flat() == flat
    assert costs.call(se.SSH, "start") == 0.4
    assert costs.connect_s == {"ssh": 0.5}
    assert costs.gwbridge_linger_s == 1.5


@pytest.mark.parametrize("url,kind", [
    ("/v1.41/containers/json?all=1", "containers"), ("/v1.41/networks", "networks"),
    ("/v1.41/networks/abc?verbose=true", "inspect_network"), ("/info", "info"),
    ("/volumes?filters=%7B%7D", "volumes"), ("/v1.41/images/json", "images")])
def test_socket_reads_are_named_as_the_sdk_calls(url: str, kind: str) -> None:
    assert se.kind_of_url(url) == kind


def test_mismatch_counts_calls_by_host_and_kind() -> None:
    def phase(*calls: tuple[str, str]) -> mb.Phase:
        return (0.0, 0, [se.Call(h, se.SSH, k, 0.0) for h, k in calls])

    real = {p: phase(("h1", "start"), ("h2", "start")) for p in mb.PHASES}
    same = {p: phase(("h2", "start"), ("h1", "start")) for p in mb.PHASES}
    other = {**same, "up": phase(("h1", "start"), ("h1", "start"))}
    assert mb.call_mismatch(real, same) == 0.0
    assert mb.call_mismatch(real, other) == pytest.approx(2 / 6)
    assert Counter(se.kinds(real["up"][2])) == Counter({"start": 2})


def _six_host_lab(tmp_path: Path) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(mb.mh.lab_scenario(mb.mh.model_shape(6, mb.managers_for(6)), ADDRS))
    return path


def test_up_returns_once_every_host_lists_every_peer_of_the_overlay(tmp_path: Path) -> None:
    """The flake of test_multihost_six: h5's engine learnt of h3 late (its overlay listed
    five peers of six) and the pings between them failed. `up` must not return before the
    gossip has reached every host: here h5 leaves h3 out of its first three looks."""
    sim = se.Sim(FREE, 1.0)
    sim.host("h5", ADDRS[4], se.SSH).gossip_late["h3"] = 3
    with mb.opener(sim.opener()):
        mb.lab_up(str(_six_host_lab(tmp_path)), tmp_path, 8)
    assert sim.hosts["h5"].gossip_late["h3"] == 0  # looked again until h3 was listed
    assert all(not h.gossip_late for k, h in sim.hosts.items() if k != "h5")


def test_up_names_the_host_the_gossip_never_reaches(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dnetlab.errors import DnetlabError
    from dnetlab.lab import gossipwait

    monkeypatch.setattr(gossipwait, "WAIT_S", 0.0)  # one look: the wait's bound is up
    sim = se.Sim(FREE, 1.0)
    sim.host("h5", ADDRS[4], se.SSH).gossip_late["h3"] = 10**6
    with mb.opener(sim.opener()), pytest.raises(DnetlabError) as err:
        mb.lab_up(str(_six_host_lab(tmp_path)), tmp_path, 8)
    assert "host h5: after 0 s its engine still does not know the peer(s) host h3 (10.99.0.3) " \
        "nor the container(s) bench-mh-h3c0" in str(
        err.value)
    assert "overlay network bench-mh-ovl" in str(err.value)


@pytest.mark.parametrize(("jobs", "parallel"), [(10, 8), (3, 8), (10, 1), (1, 4)])
def test_the_fake_runs_a_host_script_in_its_lanes(jobs: int, parallel: int) -> None:
    """The model shares the machine exec by exec, in as many lanes as the real script
    runs: read from the script `hostexec` writes."""
    script = hostexec.host_script([hostexec.Job(f"c{i}", "true") for i in range(jobs)],
                                  hostexec.new_mark(), parallel)
    assert se._lanes(script) == min(jobs, parallel)
    assert [c for c, _ in se._exec_jobs(script)] == [f"c{i}" for i in range(jobs)]


def test_a_wait_s_repeats_are_not_calls_dnetlab_decided_to_make() -> None:
    """The polls of a wait (the same network inspected again on a host) and its failed
    retries are left out; a first read, another network, another host, and repeats of a
    kind no wait polls are counted."""
    def call(host: str, kind: str, arg: str = "") -> se.Call:
        return se.Call(host, se.SSH, kind, 0.0, arg=arg)

    calls = [call("h1", "leave_swarm"), call("h1", "inspect_network", "docker_gwbridge"),
             call("h1", "inspect_network", "docker_gwbridge"),
             call("h1", "inspect_network", "docker_gwbridge"),
             call("h2", "inspect_network", "docker_gwbridge"),
             call("h1", "remove_network" + se.FAILED), call("h1", "remove_network"),
             call("h1", "inspect_network", "lab-net"), call("h1", se.CHANNEL),
             call("h1", "inspect_network", "docker_gwbridge"),
             call("h1", "start"), call("h1", "start")]
    assert se.kinds(calls) == Counter({"inspect_network": 4, "leave_swarm": 1,
                                       "remove_network": 1, "start": 2})
