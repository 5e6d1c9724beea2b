"""The floor for `dnetlab up`/`down`: the same networks and containers made and removed
straight through the Docker SDK, with no reading, planning or records; and the floor for
`dnetlab verify`: the same pings, one exec each, straight through the SDK.

Used in process by bench/lab_bench.py and bench/verify_bench.py, and as a script so that,
like the dnetlab CLI, it pays for the interpreter start and `import docker`:

    python bench/floor.py up|down|ping SPEC.json [WORKERS]

SPEC.json for up/down: {"labels": {...}, "networks": [{"name", "subnet", "gateway"}],
                        "containers": [{"name", "key", "network", "ipv4"}]}
SPEC.json for ping: {"count": N, "pings": [{"container", "address"}]}; every ping must
exit 0 (else the script fails naming them).

As dnetlab does, the script keeps paramiko out of `import docker` (the SDK imports it
whether or not SSH is used: about 0.1 s), so the floor is the leanest the SDK allows.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

WORKERS = 8  # dnetlab.lab.session.DEFAULT_WORKERS
SOCKET = "unix:///var/run/docker.sock"


def import_docker() -> Any:
    if "docker" not in sys.modules and "paramiko" not in sys.modules:
        sys.modules["paramiko"] = None  # type: ignore[assignment]
        try:
            import docker
        finally:
            del sys.modules["paramiko"]
    import docker

    return docker


def client() -> Any:
    docker = import_docker()
    return docker.APIClient(base_url=SOCKET, version="auto", timeout=60)


def _pool(fn: Any, items: list[Any], workers: int) -> None:
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items)))) as pool:
        for _ in pool.map(fn, items):  # re-raises the first failure
            pass


def up(api: Any, spec: dict[str, Any], workers: int = WORKERS) -> None:
    docker = import_docker()
    labels = spec["labels"]

    def network(n: dict[str, Any]) -> None:
        pool = docker.types.IPAMPool(subnet=n["subnet"], gateway=n["gateway"])
        api.create_network(n["name"], driver="bridge", labels=labels,
                           ipam=docker.types.IPAMConfig(pool_configs=[pool]),
                           check_duplicate=True)

    def container(c: dict[str, Any]) -> None:
        endpoint = api.create_endpoint_config(ipv4_address=c["ipv4"], aliases=[c["key"]])
        created = api.create_container(
            "busybox", command=["sleep", "infinity"], name=c["name"], labels=labels,
            hostname=c["key"], detach=True,
            host_config=api.create_host_config(network_mode=c["network"], init=True),
            networking_config=api.create_networking_config({c["network"]: endpoint}))
        api.start(created["Id"])

    _pool(network, spec["networks"], workers)
    _pool(container, spec["containers"], workers)


def down(api: Any, spec: dict[str, Any], workers: int = WORKERS) -> None:
    _pool(lambda c: api.remove_container(c["name"], force=True), spec["containers"], workers)
    _pool(lambda n: api.remove_network(n["name"]), spec["networks"], workers)


def ping_argv(count: int, address: str) -> list[str]:
    """dnetlab's ping command line (dnetlab/probes/ping.py), as an argv: no shell."""
    return ["ping", "-c", str(count), "-A", "-W", "1", "-w", str(count + 2), address]


def ping(api: Any, spec: dict[str, Any], workers: int = WORKERS) -> int:
    """One exec per ping (create, start and read its output, inspect for the exit code);
    raises unless every ping exited 0. Returns the number of execs."""
    count = int(spec["count"])
    failed: list[str] = []

    def one(p: dict[str, Any]) -> None:
        ex = api.exec_create(p["container"], ping_argv(count, p["address"]),
                             stdout=True, stderr=True)
        api.exec_start(ex["Id"], demux=False)
        code = api.exec_inspect(ex["Id"]).get("ExitCode")
        if code != 0:
            failed.append(f"{p['container']} -> {p['address']}: exit {code}")

    _pool(one, spec["pings"], workers)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(spec['pings'])} pings failed: "
                           + "; ".join(sorted(failed)[:5]))
    return len(spec["pings"])


def main() -> None:
    action, path = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else WORKERS
    with open(path) as fh:
        spec = json.load(fh)
    api = client()
    try:
        {"up": up, "down": down, "ping": ping}[action](api, spec, workers)
    finally:
        api.close()


if __name__ == "__main__":
    main()
