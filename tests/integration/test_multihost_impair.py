"""Impairments on an overlay attachment of a container on a remote host of the test bed:
the tools image is brought there, the loss holds across hosts, a qdisc removed by hand on
the remote host is drift that `up` puts back in place."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dnetlab.engine.impair import TOOLS_IMAGE
from tests.integration.test_multihost import (  # noqa: F401 (fixtures)
    OVERLAY,
    _client,
    _dnetlab,
    clean,
    hosts,
)


def _lab(work: Path) -> str:
    text = Path(OVERLAY).read_text().replace(
        "ovl: {ipv4: 10.203.0.11, aliases: [web]}",
        "ovl: {ipv4: 10.203.0.11, aliases: [web], impair: {loss: 30, rate: 2mbit}}")
    assert "impair" in text
    path = work / "overlay.yaml"
    path.write_text(text)
    return str(path)


def _in_ns(h: dict[str, str], container: str, script: str) -> str:
    c = _client(h)
    try:
        cid = c.create_container(TOOLS_IMAGE, ["sh", "-c", script],
                                 labels={"dnetlab.test": "1"},
                                 host_config=c.create_host_config(
                                     network_mode=f"container:{container}",
                                     cap_add=["NET_ADMIN"]))["Id"]
        c.start(cid)
        c.wait(cid, timeout=60)
        out = c.logs(cid).decode()
        c.remove_container(cid, force=True)
        return out
    finally:
        c.close()


def test_impairment_on_a_remote_overlay_attachment(hosts: list[dict[str, str]],  # noqa: F811
                                                   clean: Path) -> None:  # noqa: F811
    path = _lab(clean)
    up = _dnetlab(clean, "up", path)
    assert up.returncode == 0, up.stderr
    assert f"copying image {TOOLS_IMAGE} to host worker1" in up.stderr
    assert "impair overlay-b1 on overlay-ovl [worker1]: new interface" in up.stderr
    w1 = hosts[1]
    shown = _in_ns(w1, "overlay-b1", "tc qdisc show; tc class show dev eth0")
    assert "blackhole" in shown and "rate 2Mbit" in shown, shown
    plan = _dnetlab(clean, "plan", path)
    assert "is up to date" in plan.stdout, plan.stdout + plan.stderr
    # the loss across hosts: b1's pings to a1 (on the manager) leave through it
    c = _client(w1)
    try:
        ex = c.exec_create("overlay-b1", ["ping", "-c", "200", "-i", "0.02", "-W", "2",
                                          "10.203.0.10"])
        out = c.exec_start(ex["Id"]).decode()
    finally:
        c.close()
    m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    assert m, out
    loss = 100 * (int(m[1]) - int(m[2])) / int(m[1])
    print(f"\nloss 30 on a remote overlay attachment: {loss:.1f} % of {m[1]} pings")
    assert 20 <= loss <= 40
    # removed by hand on the remote host: drift, repaired in place
    _in_ns(w1, "overlay-b1", "tc qdisc del dev eth0 root")
    plan = _dnetlab(clean, "plan", path)
    assert ("impair overlay-b1 on overlay-ovl [worker1]: impairment missing "
            "(rate 2mbit, loss 30%)") in plan.stdout, plan.stdout + plan.stderr
    status = json.loads(_dnetlab(clean, "status", "--format", "json", path).stdout)
    assert status["up_to_date"] is False
    c = _client(w1)
    try:
        before = c.inspect_container("overlay-b1")["Id"]
    finally:
        c.close()
    up = _dnetlab(clean, "up", path)
    assert up.returncode == 0, up.stderr
    c = _client(w1)
    try:
        assert c.inspect_container("overlay-b1")["Id"] == before
    finally:
        c.close()
    assert "is up to date" in _dnetlab(clean, "plan", path).stdout
    down = _dnetlab(clean, "down")
    assert down.returncode == 0, down.stderr


def test_images_are_not_left_by_helpers(hosts: list[dict[str, str]]) -> None:  # noqa: F811
    # every helper is removed: no container of the tools image stays on any bed host
    for h in hosts:
        c = _client(h)
        try:
            left = [x for x in c.containers(all=True) if x["Image"].startswith(TOOLS_IMAGE)
                    and x.get("Labels", {}).get("dnetlab.test") != "1"]
            assert not left
        finally:
            c.close()
