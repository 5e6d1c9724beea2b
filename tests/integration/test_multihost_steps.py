"""Steps across hosts on the test bed: a container on a worker leaves the overlay and
comes back with its declared address (and alias), its overlay interface is impaired and
healed, and the lab is restored afterwards, with the same containers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.test_multihost import (  # noqa: F401 (fixtures)
    OVERLAY,
    _client,
    _dnetlab,
    clean,
    hosts,
)

STEPS = """
steps:
  - name: b1 leaves the overlay
    do: [{disconnect: {container: b1, network: ovl}}]
    probes:
      - {type: ping, from: a1, to: 10.203.0.11, count: 2, expect: unreachable}
  - name: b1 comes back as it was declared
    within: 30
    do: [{connect: {container: b1, network: ovl}}]
    probes:
      - {type: ping, from: a1, to: 10.203.0.11}
      - {type: dns, from: a1, name: web, address: 10.203.0.11}
  - name: b1's overlay link drops everything
    do: [{impair: {container: b1, network: ovl, loss: 100}}]
    probes:
      - {type: ping, from: a1, to: 10.203.0.11, count: 2, expect: unreachable}
  - name: b1's overlay link healed
    within: 20
    do: [{heal: {container: b1, network: ovl}}]
    probes:
      - {type: ping, from: a1, to: 10.203.0.11}
"""


def _ids(hosts: list[dict[str, str]]) -> dict[str, str]:  # noqa: F811
    found: dict[str, str] = {}
    for h in hosts:
        c = _client(h)
        try:
            for ct in c.containers(all=True, filters={"label": "dnetlab.scenario=overlay"}):
                found[ct["Labels"]["dnetlab.key"]] = ct["Id"]
        finally:
            c.close()
    return found


def test_steps_on_a_remote_overlay_attachment(hosts: list[dict[str, str]],  # noqa: F811
                                              clean: Path) -> None:  # noqa: F811
    path = clean / "overlay.yaml"
    path.write_text(Path(OVERLAY).read_text() + STEPS)
    up = _dnetlab(clean, "up", str(path))
    assert up.returncode == 0, up.stderr
    before = _ids(hosts)
    run = _dnetlab(clean, "verify", "--steps", "--format", "json", str(path))
    report = json.loads(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    steps = report["steps"]
    assert [s["status"] for s in steps] == ["passed"] * 4, steps
    back = steps[1]["probes"][0]
    print(f"\nb1 back on the overlay: ping held after {back['recovered_after_s']} s, "
          f"{back['attempts']} tries")
    assert report["restored"].startswith(("restored", "already"))
    assert _ids(hosts) == before
    w1 = _client(hosts[1])
    try:
        nets = w1.inspect_container("overlay-b1")["NetworkSettings"]["Networks"]
    finally:
        w1.close()
    assert nets["overlay-ovl"]["IPAddress"] == "10.203.0.11"
    plan = _dnetlab(clean, "plan", str(path))
    assert "is up to date" in plan.stdout, plan.stdout + plan.stderr


def test_an_overlay_recreated_in_place_comes_back(hosts: list[dict[str, str]],  # noqa: F811
                                                 clean: Path) -> None:  # noqa: F811
    # a changed setting recreates the overlay under the same name: its removal takes a
    # moment to go round the swarm ("already exists" until it has), and `up` waits it out
    up = _dnetlab(clean, "up", OVERLAY)
    assert up.returncode == 0, up.stderr
    again = _dnetlab(clean, "up", "--var", "encrypted=true", OVERLAY)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "recreate network overlay-ovl [manager]: config drift: encrypted" in again.stderr
    plan = _dnetlab(clean, "plan", "--var", "encrypted=true", OVERLAY)
    assert "is up to date" in plan.stdout, plan.stdout + plan.stderr
