"""A lab of N containers over three hosts, for the graph's tests (bench/graph_bench.py
times `dnetlab graph` of it): a bridge per host, an overlay across them that every fourth
container joins too, an impairment on every tenth attachment, and a few probes."""

from __future__ import annotations


def big_lab(n: int = 200, name: str = "big") -> str:
    hosts = ("h1", "h2", "h3")
    lines = ["version: 1", f"name: {name}", "description: a lab of many containers",
             "hosts:",
             "  h1: {engine: 'ssh://root@10.99.0.1', swarm: manager, "
             "advertise_addr: 10.99.0.1}",
             "  h2: {engine: 'ssh://root@10.99.1.2', swarm: worker}",
             "  h3: {engine: 'ssh://root@10.99.0.3', swarm: worker}",
             "networks:",
             "  core: {driver: overlay, subnet: 10.60.0.0/22}"]
    lines += [f"  lan{i}: {{subnet: 10.50.{i}.0/24, hosts: [{h}]}}"
              for i, h in enumerate(hosts, start=1)]
    lines.append("containers:")
    for i in range(n):
        host = i % len(hosts) + 1
        nets = [f"lan{host}: {{ipv4: 10.50.{host}.{10 + i // len(hosts)}"
                + (", impair: {delay: 20}" if i % 10 == 0 else "") + "}"]
        if i % 4 == 0:
            nets.append(f"core: {{ipv4: 10.60.{i // 200}.{10 + i % 200}}}")
        lines.append(f"  c{i}: {{image: busybox, host: h{host}, command: sleep infinity, "
                     f"networks: {{{', '.join(nets)}}}}}")
    lines += ["probes:", "  - {type: ping, from: c0, to: c4}", "  - {type: ping, from: c1, to: c4}",
              "  - {type: ping, from: c3, to: c6}"]
    return "\n".join(lines) + "\n"
