"""Terminal rendering of results: tables for people; JSON lives next to the data."""

from __future__ import annotations

from dnetlab.lab.status import LabStatus


def print_status(st: LabStatus) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    # Piped output keeps whole addresses and MACs rather than folding at 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 160)
    hosts = sorted({c.host for c in st.containers} | {n.host for n in st.networks})
    for host in hosts:
        table = Table(title=f"lab {st.scenario} on host {host}", title_justify="left")
        for col in ("container", "state", "image", "network", "ipv4", "ipv6", "mac", "drift"):
            table.add_column(col)
        for c in (c for c in st.containers if c.host == host):
            drift = "; ".join(d.split(": ", 1)[-1] for d in c.drift) or "-"
            rows = c.endpoints or ()
            if not rows:
                table.add_row(c.key, c.state, c.image, "-", "-", "-", "-", drift)
            for i, e in enumerate(rows):
                table.add_row(c.key if i == 0 else "", c.state if i == 0 else "",
                              c.image if i == 0 else "", e.network, e.ipv4 or "-",
                              e.ipv6 or "-", e.mac or "-", drift if i == 0 else "")
        console.print(table)
        nets = Table(title_justify="left")
        for col in ("network", "name", "driver", "subnets", "owner", "state", "drift"):
            nets.add_column(col)
        for n in (n for n in st.networks if n.host == host):
            drift = "; ".join(d.split(": ", 1)[-1] for d in n.drift) or "-"
            # an external network is the user's: shown, never changed (spec 10.2)
            nets.add_row(n.key, n.name, n.driver, ", ".join(n.subnets) or "-",
                         "external" if n.external else "lab", n.state, drift)
        if nets.row_count:
            console.print(nets)
    verdict = "up to date" if st.up_to_date else f"{len(st.plan.ops)} pending change(s)"
    console.print(f"lab {st.scenario}: {verdict}")
    note = instance_note(st)
    if note:
        console.print(note)


def instance_note(st: LabStatus) -> str:
    """Whose objects the tables show, when that is not simply this directory's lab."""
    from dnetlab.labels import describe_instance

    if st.owner.instance is None:
        seen = ", ".join(describe_instance(i) for i in st.instances) or "none found"
        return (f"no record of lab {st.scenario} here: showing its objects of any instance "
                f"(a copy brought up elsewhere, or by another user); instances: {seen}")
    others = [describe_instance(i) for i in st.instances if i != st.owner.instance]
    if others:
        return (f"also on these hosts, not shown: other copies of lab {st.scenario} "
                f"({', '.join(others)})")
    return ""
