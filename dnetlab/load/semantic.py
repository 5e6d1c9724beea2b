"""Stage 5: checks across objects: references, addresses, overlaps, swarm roles.

Each check reads the typed model and reports findings by data path; the raw data is used
only to find where in the file a reference was written. Which fields of a probe name
containers, hosts or hops is its type's `check_refs` (`dnetlab.probes`); the checks of
those names are here.

Every check is linear in the file, or n log n: lookups go through dicts, and overlapping
subnets are found by a sweep over sorted address ranges rather than by comparing every
pair (10,000 networks took minutes that way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network
from typing import Any

from dnetlab.errors import shown
from dnetlab.load import engineurl, timeline
from dnetlab.load.build import Broken
from dnetlab.load.findings import Findings, did_you_mean
from dnetlab.load.yamlload import Path
from dnetlab.model import Action, Container, Host, Network, Scenario, Step
from dnetlab.probes.base import Target
from dnetlab.probes.registry import kind_of

# The known names a hint lists when it suggests none.
MAX_LISTED = 10
# Comparisons of unknown names with known ones (difflib) for "did you mean": past this
# many, hints list known names instead. Each costs microseconds, and a file with
# thousands of unknown names among thousands of known ones would take minutes.
SUGGESTION_BUDGET = 200_000


class Checker:
    def __init__(self, sc: Scenario, data: dict[str, Any], broken: Broken, out: Findings) -> None:
        self.sc = sc
        self.data = data
        self.broken = broken
        self.out = out
        self.host_keys = [h.key for h in sc.hosts] + sorted(broken.hosts)
        self.net_keys = [n.key for n in sc.networks] + sorted(broken.networks)
        self.container_keys = [c.key for c in sc.containers] + sorted(broken.containers)
        # the same, for lookups
        self.host_set = frozenset(self.host_keys)
        self.net_set = frozenset(self.net_keys)
        self.container_set = frozenset(self.container_keys)
        self.host_by_key: dict[str, Host] = {h.key: h for h in sc.hosts}
        self.container_by_key: dict[str, Container] = {c.key: c for c in sc.containers}
        # networks of each container, made once: a probe asks for them every time
        self.nets_of: Mapping[str, frozenset[str]] = {
            c.key: frozenset(a.network for a in c.attachments) for c in sc.containers}
        # keys of external networks that are Docker's default bridge: a container with
        # no networks is on it too
        self.default_bridges = frozenset(n.key for n in sc.networks if n.default_bridge)
        self._apart: dict[tuple[str, str], bool] = {}  # (a, b): they share no network
        # every name a container's /etc/hosts or DNS may know besides the keys: network
        # aliases, link aliases, extra_hosts names; and what a bare hostname suggests
        self.alias_keys = sorted({al for c in sc.containers for a in c.attachments
                                  for al in a.aliases}
                                 | {lk.alias for c in sc.containers for lk in c.links
                                    if lk.alias}
                                 | {h for c in sc.containers for h, _ in c.extra_hosts})
        self.alias_set = frozenset(self.alias_keys)
        self._hostname_hint: dict[str, str | None] = {}
        self.suggestions_left = SUGGESTION_BUDGET
        # (probe path, field) -> where each value first stands in that field's list
        self._list_index: dict[tuple[Path, str], dict[str, int]] = {}

    def run(self) -> None:
        self.hosts()
        self.networks()
        self.containers()
        self.links()
        self.addresses()
        self.overlaps()
        self.names()
        self.probes()
        self.steps()

    # -- helpers -------------------------------------------------------------------------
    def _unknown(self, path: Path, what: str, name: str, known: list[str]) -> None:
        hint = None
        if self.suggestions_left > 0:
            self.suggestions_left -= len(known) + 50  # and what one call costs by itself
            hint = did_you_mean(name, known)
        if hint is None and known:
            listed = ", ".join(known[:MAX_LISTED])
            more = len(known) - MAX_LISTED
            hint = f"known {what}s: {listed}" + (f" and {more} more" if more > 0 else "")
        self.out.error(path, f"unknown {what} {shown(name)}", hint or f"no {what}s are declared")

    def _net_ref_paths(self, c: Container) -> dict[str, tuple[Path, bool]]:
        """Where each network of the container is named: an item of its `networks` list
        (the first, when named twice), or a key of its `networks` mapping."""
        raw = self.data["containers"][c.key].get("networks")
        at: dict[str, tuple[Path, bool]] = {}
        for a in c.attachments:
            at.setdefault(a.network, (("containers", c.key, "networks", a.network), True))
        if isinstance(raw, list):
            for i, net in reversed(list(enumerate(raw))):
                at[net] = (("containers", c.key, "networks", i), False)
        return at

    # -- hosts ---------------------------------------------------------------------------
    def hosts(self) -> None:
        if not self.data.get("hosts"):
            return
        roles = [h.swarm for h in self.sc.hosts]
        if "worker" in roles and "manager" not in roles:
            first = next(h for h in self.sc.hosts if h.swarm == "worker")
            self.out.error(("hosts", first.key, "swarm"), "swarm workers but no manager",
                           "make one host `swarm: manager`")
        for h in self.sc.hosts:
            if h.engine is None:
                continue
            for message, hint in engineurl.problems(h.engine):
                self.out.error(("hosts", h.key, "engine"), message, hint)

    # -- networks ------------------------------------------------------------------------
    def networks(self) -> None:
        managers = [h.key for h in self.sc.hosts if h.swarm == "manager"]
        for n in self.sc.networks:
            p: Path = ("networks", n.key)
            raw = self.data["networks"][n.key]
            if n.external:
                self._external(n, p, raw)
                continue
            if n.driver == "overlay" and not managers:
                self.out.error((*p, "driver"), "an overlay network needs swarm hosts",
                               "give the hosts `swarm: manager` / `swarm: worker`")
            if n.driver != "overlay":
                for k in ("attachable", "encrypted"):
                    if k in raw:
                        self.out.error((*p, k), f"`{k}` applies to overlay networks only",
                                       at_key=True)
            if n.driver not in ("macvlan", "ipvlan") and "parent" in raw:
                self.out.error((*p, "parent"), "`parent` applies to macvlan and ipvlan networks "
                               "only", at_key=True)
            if n.driver == "overlay" and "hosts" in raw:
                self.out.error((*p, "hosts"), "an overlay spans the swarm; it takes no `hosts` "
                               "list", at_key=True)
            for i, h in enumerate(raw.get("hosts", ())):
                if h not in self.host_set:
                    self._unknown((*p, "hosts", i), "host", h, self.host_keys)
            self._network_addresses(n, p)
            if not n.hosts and n.driver != "overlay":
                self.out.warning(p, f"network {n.key!r} has no container and lists no hosts, "
                                 "so it is created nowhere", "add `hosts:` or attach a container",
                                 at_key=True)

    def _external(self, n: Network, p: Path, raw: Mapping[str, Any]) -> None:
        """An existing network is used as it is: nothing that would create or change it."""
        for k in raw:
            if k not in EXTERNAL_KEYS:
                self.out.error((*p, k), f"`{k}` describes a network the lab creates; an "
                               "external network is used as it is",
                               "drop it, or drop `external: true` so that the lab creates "
                               "and owns the network", at_key=True)
        if n.name in ("host", "none"):
            self.out.error((*p, "name") if "name" in raw else p,
                           f"Docker's {n.name!r} network cannot be joined beside other "
                           "networks", f"use `network_mode: {n.name}` on the container "
                           "instead", at_key="name" not in raw)

    def _network_addresses(self, n: Network, p: Path) -> None:
        if n.subnet is not None:
            if n.gateway is not None:
                self._inside(n.gateway, n.subnet, (*p, "gateway"), "gateway")
            if n.ip_range is not None and not n.ip_range.subnet_of(n.subnet):
                self.out.error((*p, "ip_range"), f"ip_range {n.ip_range} is not inside subnet "
                               f"{n.subnet}")
        else:
            for k in ("gateway", "ip_range"):
                if getattr(n, k) is not None:
                    self.out.error((*p, k), f"`{k}` needs `subnet`", at_key=True)
        if n.ipv6_subnet is not None and n.ipv6_gateway is not None:
            self._inside(n.ipv6_gateway, n.ipv6_subnet, (*p, "ipv6_gateway"), "ipv6_gateway")
        elif n.ipv6_gateway is not None:
            self.out.error((*p, "ipv6_gateway"), "`ipv6_gateway` needs `ipv6_subnet`", at_key=True)

    def _inside(self, addr: IPv4Address | IPv6Address, net: IPv4Network | IPv6Network,
                path: Path, what: str) -> bool:
        if addr not in net:
            self.out.error(path, f"{what} {addr} is outside subnet {net}")
            return False
        if addr == net.network_address:
            self.out.error(path, f"{what} {addr} is the network address of {net}",
                           f"use a host address such as {net.network_address + 1}")
            return False
        if isinstance(net, IPv4Network) and net.prefixlen < 31 and addr == net.broadcast_address:
            self.out.error(path, f"{what} {addr} is the broadcast address of {net}")
            return False
        return True

    # -- containers ----------------------------------------------------------------------
    def containers(self) -> None:
        net_by_key = {n.key: n for n in self.sc.networks}
        several = len(self.host_keys) > 1
        for c in self.sc.containers:
            p: Path = ("containers", c.key)
            raw = self.data["containers"][c.key]
            if "host" in raw and raw["host"] not in self.host_set:
                self._unknown((*p, "host"), "host", raw["host"], self.host_keys)
            elif "host" not in raw and several:
                listed = ", ".join(self.host_keys[:MAX_LISTED])
                if len(self.host_keys) > MAX_LISTED:
                    listed += f" and {len(self.host_keys) - MAX_LISTED} more"
                self.out.error(p, "there are several hosts: say which one runs this container",
                               f"add `host:` with one of {listed}", at_key=True)
            if c.network_mode and "networks" in raw:
                self.out.error((*p, "network_mode"), "`network_mode` and `networks` exclude each "
                               "other", "a container either joins a built-in network "
                               "(network_mode) or the scenario's networks", at_key=True)
            refs = self._net_ref_paths(c)
            for a in c.attachments:
                ref, is_key = refs[a.network]
                if a.network not in self.net_set:
                    self._unknown(ref, "network", a.network, self.net_keys)
                    continue
                n = net_by_key.get(a.network)
                if n is None:
                    continue
                if n.hosts_declared and c.host and c.host not in n.hosts:
                    on = ", ".join(n.hosts[:MAX_LISTED]) + (
                        f" and {len(n.hosts) - MAX_LISTED} more" if len(n.hosts) > MAX_LISTED
                        else "")
                    self.out.error(ref, f"network {n.key!r} is created only on "
                                   f"{on}, not on {c.host!r} where this "
                                   "container runs", at_key=is_key)
                host = self.host_by_key.get(c.host)
                if n.default_bridge and a.aliases:
                    self.out.error((*ref, "aliases"), "Docker's default bridge takes no "
                                   "aliases (they work on user-defined networks only)",
                                   "drop `aliases`; on the default bridge a container is "
                                   "reached by address", at_key=True)
                if n.driver == "overlay" and host is not None and host.swarm is None:
                    self.out.error(ref, f"host {c.host!r} takes no part in the swarm, so it "
                                   f"cannot join overlay {n.key!r}",
                                   f"give host {c.host!r} a `swarm:` role", at_key=is_key)

    def links(self) -> None:
        """Legacy links: between containers on Docker's default bridge of one host, each
        name once, and no cycle (a linked container must run before its linker is made)."""
        graph: dict[str, list[tuple[int, str]]] = {}  # key -> (item, linked key)
        for c in self.sc.containers:
            if not c.links:
                continue
            p: Path = ("containers", c.key, "links")
            if not c.on_default_bridge:
                self.out.error(p, f"links work only on Docker's default bridge: {_where(c)}",
                               LINKS_HINT, at_key=True)
            names: dict[str, int] = {}
            for i, ln in enumerate(c.links):
                at: Path = (*p, i)
                if ln.name in names:
                    self.out.error(at, f"{ln.name!r} already names links[{names[ln.name]}]",
                                   "give each link its own alias")
                names.setdefault(ln.name, i)
                if ln.container == c.key:
                    self.out.error(at, f"container {c.key!r} cannot link to itself",
                                   "its own name is in its /etc/hosts already")
                    continue
                if ln.container not in self.container_set:
                    self._unknown(at, "container", ln.container, self.container_keys)
                    continue
                t = self.container_by_key.get(ln.container)
                if t is None:  # it failed the schema: reported there
                    continue
                if not t.on_default_bridge:
                    self.out.error(at, "links work only on Docker's default bridge: "
                                   f"{_where(t)}", LINKS_HINT)
                elif c.host and t.host and t.host != c.host:
                    self.out.error(at, f"links work only on one host: {t.key!r} runs on "
                                   f"{t.host!r}, {c.key!r} on {c.host!r}",
                                   "put both on one host, or join them with an overlay "
                                   "network and use its DNS")
                else:
                    graph.setdefault(c.key, []).append((i, t.key))
        self._link_cycles(graph)

    def _link_cycles(self, graph: dict[str, list[tuple[int, str]]]) -> None:
        """Each cycle of links, once, at the item that closes it: a depth-first walk
        (iterative, linear in containers and links)."""
        state: dict[str, int] = {}  # 1: on the walk's path, 2: done
        for root in graph:
            if root in state:
                continue
            path: list[str] = [root]
            todo: list[tuple[str, int]] = [(root, 0)]
            state[root] = 1
            while todo:
                key, n = todo[-1]
                edges = graph.get(key, [])
                if n == len(edges):
                    todo.pop()
                    path.pop()
                    state[key] = 2
                    continue
                todo[-1] = (key, n + 1)
                i, nxt = edges[n]
                if state.get(nxt) == 1:
                    loop = [*path[path.index(nxt):], nxt]
                    self.out.error(("containers", key, "links", i),
                                   f"links form a cycle: {' -> '.join(loop)}",
                                   "a linked container must run before the one that links "
                                   "to it: drop one of these links")
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    todo.append((nxt, 0))

    def addresses(self) -> None:
        """Static addresses against their subnet, and each address and MAC once per segment."""
        net_by_key = {n.key: n for n in self.sc.networks}
        taken: dict[tuple[str, str, str], str] = {}
        for c in self.sc.containers:
            for a in c.attachments:
                n = net_by_key.get(a.network)
                if n is None:
                    continue
                p: Path = ("containers", c.key, "networks", a.network)
                # each bridge instance is its own segment; an overlay is one across hosts
                segment = "*" if n.driver == "overlay" else c.host
                raw = self.data["networks"][n.key]
                if n.default_bridge and (a.ipv4 is not None or a.ipv6 is not None):
                    field = "ipv4" if a.ipv4 is not None else "ipv6"
                    self.out.error((*p, field), "Docker's default bridge takes no static "
                                   "address (Docker: \"user specified IP address is supported "
                                   "on user defined networks only\")",
                                   f"drop `{field}`: the address is dynamic, and probes name "
                                   f"it as {c.key}@{n.key}")
                    continue
                if n.external and a.ipv6 is not None:
                    self.out.error((*p, "ipv6"), "an external network's IPv6 subnet is not "
                                   "declared, so no static ipv6 can be checked on it",
                                   "drop `ipv6`, or let the lab create the network")
                    continue
                if n.external and a.ipv4 is not None and "subnet" not in raw:
                    self.out.error((*p, "ipv4"), "a static address on an external network "
                                   "needs the subnet it has",
                                   f"declare it as `subnet:` on network {n.key!r} (preflight "
                                   "checks that the network has it)")
                    continue
                # a subnet that failed to parse was reported already: skip, don't pile on
                if a.ipv4 is not None and (n.subnet is not None or "subnet" not in raw):
                    self._static(a.ipv4, n.subnet, n.gateway, (*p, "ipv4"), "subnet")
                if a.ipv6 is not None and (n.ipv6_subnet is not None or "ipv6_subnet" not in raw):
                    self._static(a.ipv6, n.ipv6_subnet, n.ipv6_gateway, (*p, "ipv6"), "ipv6_subnet")
                for field, value in (("ipv4", a.ipv4), ("ipv6", a.ipv6), ("mac", a.mac)):
                    if value is None:
                        continue
                    slot = (n.key, segment, f"{field}:{value}")
                    if slot in taken:
                        self.out.error((*p, field), f"{value} is already taken by container "
                                       f"{taken[slot]!r} on network {n.key!r}")
                    else:
                        taken[slot] = c.key

    def _static(self, addr: IPv4Address | IPv6Address, net: IPv4Network | IPv6Network | None,
                gw: IPv4Address | IPv6Address | None, path: Path, subnet_key: str) -> None:
        if net is None:
            self.out.error(path, f"a static address needs the network's `{subnet_key}`",
                           f"add `{subnet_key}:` to the network")
            return
        if not self._inside(addr, net, path, "address"):
            return
        gateway = gw if gw is not None else net.network_address + 1
        if addr == gateway:
            why = "the gateway" if gw is not None else (
                "the default gateway (Docker takes the subnet's first address when no "
                "gateway is set)")
            self.out.error(path, f"address {addr} is {why}", "pick another address")

    def overlaps(self) -> None:
        """Subnets that overlap on a host they share (an overlay shares every swarm host),
        reported at the network written later, naming the earlier one.

        Two CIDR ranges overlap only when one holds the other. Within each group of
        networks that may clash (those on one host; overlays against the rest), the
        ranges are sorted by start, and each is compared with the one reaching furthest
        among those before it: any range that overlaps an earlier one overlaps that one.
        So in n log n: whenever some pair overlaps, one is reported; every network that
        overlaps another on a host they share takes part in a reported pair; but a
        network overlapping several is not told each of them (with every pair, 10,000
        copies of one subnet made 50 million messages).
        """
        order = {n.key: i for i, n in enumerate(self.sc.networks)}
        reported: set[tuple[str, str, str]] = set()
        for field in ("subnet", "ipv6_subnet"):
            nets = [n for n in self.sc.networks if getattr(n, field) is not None]
            groups: dict[str, list[Network]] = {}
            for n in nets:
                for h in set(n.hosts):
                    groups.setdefault(h, []).append(n)
            for members in groups.values():
                for x, y in _sweep(members, field, _any):
                    self._overlap(x, y, field, order, reported)
            overlays = [n for n in nets if n.driver == "overlay"]
            if overlays:
                # an overlay clashes with every network of a host (with every network
                # once the swarm has hosts: all overlays span the same ones)
                swarm = any(n.hosts for n in overlays)
                mixed = [n for n in nets if n.driver == "overlay" or n.hosts or swarm]
                for x, y in _sweep(mixed, field, _either_overlay):
                    self._overlap(x, y, field, order, reported)

    def _overlap(self, x: Network, y: Network, field: str, order: dict[str, int],
                 reported: set[tuple[str, str, str]]) -> None:
        """The message for two overlapping networks, as for every pair before: at the one
        written later, when they share a host."""
        a, b = (x, y) if order[x.key] > order[y.key] else (y, x)
        if (a.key, b.key, field) in reported:
            return
        def spans(n: Network) -> set[str]:
            return {"*swarm*"} | set(n.hosts) if n.driver == "overlay" else set(n.hosts)

        sa, sb = getattr(a, field), getattr(b, field)
        shared = spans(a) & spans(b)
        if a.driver == "overlay" or b.driver == "overlay":
            shared = shared or (set(a.hosts) | set(b.hosts))
        if not shared:
            return
        reported.add((a.key, b.key, field))
        where = ", ".join(sorted(h for h in shared if h != "*swarm*"))
        self.out.error(("networks", a.key, field),
                       f"{sa} overlaps {sb} of network {b.key!r}"
                       + (f" on host {where}" if where else ""),
                       "give each network its own subnet")

    def names(self) -> None:
        def dupes(items: Iterable[tuple[str, str]], section: str) -> None:
            seen: dict[str, str] = {}
            for key, name in items:
                if name in seen:
                    self.out.error((section, key), f"Docker name {name!r} is also used by "
                                   f"{seen[name]!r}", "set a distinct `name:`", at_key=True)
                seen.setdefault(name, key)

        dupes(((c.key, c.name) for c in self.sc.containers), "containers")
        dupes(((n.key, n.name) for n in self.sc.networks), "networks")
        hosts_of: dict[str, set[str]] = {}  # network key -> hosts of its containers
        for c in self.sc.containers:
            for a in c.attachments:
                hosts_of.setdefault(a.network, set()).add(c.host)
        for n in self.sc.networks:
            if n.driver in ("bridge", "macvlan", "ipvlan") and not n.hosts_declared \
                    and not n.external:
                on = sorted(hosts_of.get(n.key, ()))
                if len(on) > 1:
                    self.out.warning(("networks", n.key),
                                     f"network {n.key!r} has containers on hosts "
                                     f"{', '.join(on)}: each host gets its own, unconnected "
                                     f"{n.driver}, so they will not reach each other",
                                     "use an overlay to join them, or add `hosts:` to say this "
                                     "is intended", at_key=True)

    # -- probes --------------------------------------------------------------------------
    def probes(self) -> None:
        names: dict[str, int] = {}
        for pr in self.sc.probes:
            p: Path = ("probes", pr.index)
            if pr.name_given and pr.name in names and names[pr.name] != pr.index:
                self.out.error((*p, "name"), f"probe name {pr.name!r} is already used by "
                               f"probes[{names[pr.name]}]", "`--probe NAME` must pick one probe")
            names.setdefault(pr.name, pr.index)
            # the type says which of its fields name what; this checker knows the names
            kind_of(pr).check_refs(pr, self, p)

    # -- steps ---------------------------------------------------------------------------
    def steps(self) -> None:
        """Names, references and step probes here; the order of the actions (what state
        each one meets) in `timeline`."""
        names: dict[str, int] = {}
        for s in self.sc.steps:
            p: Path = ("steps", s.index)
            if s.name in names:
                self.out.error((*p, "name"), f"step name {s.name!r} is already used by "
                               f"steps[{names[s.name]}]", "reports name each step: give it "
                               "its own name")
            names.setdefault(s.name, s.index)
            raw_do = self.data["steps"][s.index]["do"]
            for a in s.actions:
                self._action_refs(a, (*p, "do", a.index), raw_do[a.index][a.kind])
        timeline.check(self.sc, self.data, self.broken, self.out, self._static,
                       self._step_probes)

    def _action_refs(self, a: Action, at: Path, body: Any) -> None:
        ap: Path = (*at, a.kind)
        if a.kind == "exec":
            self.on_ref(a.on or "", (*ap, "on"))
            return
        if a.container is not None and a.container not in self.container_set:
            self._unknown(ap if isinstance(body, str) else (*ap, "container"), "container",
                          a.container, self.container_keys)
        if a.network is not None and a.network not in self.net_set:
            self._unknown((*ap, "network"), "network", a.network, self.net_keys)

    def _step_probes(self, s: Step, nets_now: Mapping[str, frozenset[str]]) -> None:
        """The probes of a step, against the networks each container is on after the
        step's actions (`c1 -> c2` holds once a step has connected them)."""
        if not s.probes:
            return
        declared, self.nets_of = self.nets_of, nets_now
        self._apart.clear()
        try:
            self._check_step_probes(s)
        finally:
            self.nets_of = declared
            self._apart.clear()

    def _check_step_probes(self, s: Step) -> None:
        raw = self.data["steps"][s.index]["probes"]
        names: dict[str, int] = {}
        for pr in s.probes:
            p: Path = ("steps", s.index, "probes", pr.index)
            item = raw[pr.index]
            if pr.name_given and pr.name in names and names[pr.name] != pr.index:
                self.out.error((*p, "name") if "name" in item else (*p, "use"),
                               f"probe name {pr.name!r} is already used by "
                               f"steps[{s.index}].probes[{names[pr.name]}]",
                               "a step's report names each of its probes: give it its own "
                               "name")
            names.setdefault(pr.name, pr.index)
            if "use" not in item:  # a `use` was checked where its probe is written
                kind_of(pr).check_refs(pr, self, p)

    # -- what a probe type asks of the scenario (`probes.base.References`) --------------
    def error(self, path: Path, message: str, hint: str | None = None) -> None:
        self.out.error(path, message, hint)

    def _raw_field_path(self, p: Path, field: str, value: str) -> Path:
        index = self._list_index.get((p, field))
        if index is None:
            # one map per list: an expanded probe is one of up to len(from) * len(to)
            item: Any = self.data
            for part in p:  # ("probes", i) or ("steps", i, "probes", j)
                item = item[part]
            raw = item.get(field)
            index = {}
            if isinstance(raw, list):
                for n, v in reversed(list(enumerate(raw))):
                    if isinstance(v, str):
                        index[v] = n
            self._list_index[(p, field)] = index
        n = index.get(value)
        return (*p, field) if n is None else (*p, field, n)

    def container_ref(self, key: str, p: Path, field: str) -> None:
        if key not in self.container_set:
            self._unknown(self._raw_field_path(p, field, key), "container", key,
                          self.container_keys)

    def on_ref(self, on: str, p: Path) -> None:
        if on.startswith("host:"):
            h = on[5:]
            if h not in self.host_set:
                self._unknown(p, "host", h, self.host_keys)
        elif on not in self.container_set:
            self._unknown(p, "container", on, self.container_keys)

    def target_ref(self, source: str, t: Target, p: Path) -> None:
        tp = self._raw_field_path(p, "to", t.text)
        if t.kind == "container_network":
            c, n = t.container or "", t.network or ""
            if c not in self.container_set:
                self._unknown(tp, "container", c, self.container_keys)
                return
            if n not in self.net_set:
                self._unknown(tp, "network", n, self.net_keys)
                return
            cont = self.container_by_key.get(c)
            if cont is not None and n not in self.nets_of[c] and not (
                    n in self.default_bridges and cont.on_default_bridge):
                now = self.nets_of[c]  # in a step: after its actions
                on = [a.network for a in cont.attachments if a.network in now]
                on += sorted(now - set(on))
                self.out.error(tp, f"container {c!r} is not on network {n!r}",
                               f"it is on {', '.join(on)}" if on else "it joins no scenario "
                               "network")
        elif t.kind == "container":
            self._shares_network(source, t.container or "", tp)
        elif t.kind == "hostname":
            self.hostname_ref(t.text, tp)

    def hostname_ref(self, name: str, p: Path) -> None:
        """A name without a dot that no container key or alias (nor `localhost`) explains
        is most likely a typo of one: it would go to a resolver, perhaps outside the
        machine. A warning, located (spec 10.1): such a name can be meant."""
        if "." in name or name == "localhost" or name in self.container_set \
                or name in self.alias_set:
            return
        if name not in self._hostname_hint:
            hint = None
            if self.suggestions_left > 0:
                known = self.container_keys + self.alias_keys
                self.suggestions_left -= len(known) + 50
                hint = did_you_mean(name, known)
            self._hostname_hint[name] = hint
        hint = self._hostname_hint[name]
        self.out.warning(p, f"{shown(name)} is no container key, alias nor localhost: treated "
                         "as a hostname" + (f"; {hint}" if hint else ""),
                         None if hint else "a hostname without a dot goes to the "
                         "container's resolver")

    def _shares_network(self, a: str, b: str, p: Path) -> None:
        ca = self.container_by_key.get(a)
        cb = self.container_by_key.get(b)
        if ca is None or cb is None:
            return
        if cb.network_mode in ("none", "host") or ca.network_mode == "none":
            self.out.error(p, f"container {b!r} has no address that {a!r} can reach",
                           "point the probe at a literal address")
            return
        apart = self._apart.get((a, b))
        if apart is None:  # once per pair: thousands of probes may name the same two
            default = frozenset({"(default bridge)"})
            nets_a = default if ca.network_mode == "bridge" else (self.nets_of[a] or default)
            nets_b = default if cb.network_mode == "bridge" else (self.nets_of[b] or default)
            if self.default_bridges:  # an external `bridge` is the same network
                nets_a = frozenset("(default bridge)" if x in self.default_bridges else x
                                   for x in nets_a)
                nets_b = frozenset("(default bridge)" if x in self.default_bridges else x
                                   for x in nets_b)
            apart = self._apart[(a, b)] = nets_a.isdisjoint(nets_b)
        if apart and ca.network_mode != "host":
            self.out.error(p, f"containers {a!r} and {b!r} share no network, so {b!r} has no "
                           f"address to reach from {a!r}",
                           f"write {b}@NETWORK or a literal address to probe across networks")

    def hop_ref(self, hop: str, p: Path) -> None:
        try:
            ip_network(hop)
        except ValueError:
            if hop not in self.container_set:
                self._unknown(p, "container", hop, self.container_keys)


# what an external network may declare: its Docker name, the subnet it has (for static
# addresses), and the default impairment of the lab's attachments to it
EXTERNAL_KEYS = frozenset({"external", "name", "subnet", "impair"})

LINKS_HINT = ("use a user-defined network's DNS instead, or put both on the default bridge")


def _where(c: Container) -> str:
    """Where a container that is not on Docker's default bridge is, for a link's error."""
    if c.network_mode is not None:
        return f"{c.key} uses network_mode {c.network_mode}"
    return f"{c.key} is on {', '.join(a.network for a in c.attachments)}"


def _any(x: Network, m: Network) -> bool:
    return True


def _either_overlay(x: Network, m: Network) -> bool:
    return x.driver == "overlay" or m.driver == "overlay"


def _sweep(members: list[Network], field: str,
           clash: Any) -> Iterable[tuple[Network, Network]]:
    """Pairs of overlapping networks among `members`: each range with the one reaching
    furthest before it in address order (the earlier in the file first among equals) for
    which `clash(range, that one)` holds. A pair is found for every range that overlaps
    an earlier one it clashes with: ranges are nested or apart, so the furthest-reaching
    one holds any range that starts within another."""
    def key(n: Network) -> tuple[int, int]:
        net = getattr(n, field)
        return int(net.network_address), -net.prefixlen

    furthest: dict[bool, tuple[int, Network]] = {}  # per kind of network: (end, network)
    for n in sorted(members, key=key):  # sorted() is stable: file order among equals
        net = getattr(n, field)
        start = int(net.network_address)
        for end, m in list(furthest.values()):
            if start <= end and clash(n, m):
                yield n, m
                break
        overlay = n.driver == "overlay"
        end = int(net.broadcast_address)
        if overlay not in furthest or end > furthest[overlay][0]:
            furthest[overlay] = (end, n)


def check(sc: Scenario, data: dict[str, Any], broken: Broken, out: Findings) -> None:
    Checker(sc, data, broken, out).run()
