"""`dnetlab capture CONTAINER[:IFACE] [FILTER...]`: pcap from a lab container's network
namespace (docs/capture.md). With `-w -` nothing but pcap goes to stdout; progress and
messages go to stderr."""

from __future__ import annotations

import sys
import time
from typing import BinaryIO

import click


@click.command(name="capture", context_settings={"ignore_unknown_options": False})
@click.argument("target", metavar="CONTAINER[:IFACE]")
@click.argument("bpf", nargs=-1, metavar="[FILTER]...")
@click.option("-w", "--write", "output", required=True, metavar="FILE",
              help="Write the pcap to FILE; `-` streams it to standard output "
                   "(`dnetlab capture c1 -w - | wireshark -k -i -`).")
@click.option("-c", "--count", type=click.IntRange(1), default=None,
              help="Stop after this many packets.")
@click.option("-d", "--duration", type=click.FloatRange(0, min_open=True), default=None,
              help="Stop after this many seconds.")
@click.option("-n", "--name", "lab_name", metavar="NAME",
              help="The recorded lab to act on, when several are recorded here.")
def capture(target: str, bpf: tuple[str, ...], output: str, count: int | None,
            duration: float | None, lab_name: str | None) -> None:
    """Capture packets in a lab container's namespace, wherever it lives: the interface
    IFACE (default: all, `any`), an optional BPF filter (tcpdump's syntax, e.g. `icmp`),
    until --count packets, --duration seconds or Ctrl-C."""
    from dnetlab.cli.interrupt import interruptible
    from dnetlab.lab import records
    from dnetlab.lab.capture import capture as lab_capture
    from dnetlab.lab.deployed import scenario_from_record
    from dnetlab.lab.progress import reporter_for

    sc = scenario_from_record(records.pick(lab_name))
    tty = sys.stderr.isatty()
    last = [0.0]

    def progress(n: int) -> None:
        now = time.monotonic()
        if tty and now - last[0] >= 0.2:
            last[0] = now
            click.echo(f"\r{n} packets captured", err=True, nl=False)

    # a file is closed below, also on Ctrl-C
    out: BinaryIO = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115

    def sink(data: bytes) -> None:
        out.write(data)
        out.flush()

    try:
        try:
            # Ctrl-C ends tcpdump (its file complete) and the capture returns; a second
            # one stops at once. A KeyboardInterrupt raised anywhere in the SDK's requests
            # can leave a lock of its connection pool held, and the helper's removal then
            # waits on it for ever (seen once under load).
            with interruptible("ending the capture") as stop:
                res = lab_capture(sc, target, sink, reporter_for(), count=count,
                                  duration=duration, bpf=bpf, on_packets=progress,
                                  stop=stop)
        except BrokenPipeError:  # the reader (wireshark, head) went away: that ends it
            import os

            # nothing more may reach the closed pipe (not even Python's flush at exit)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
    finally:
        if tty and last[0]:
            click.echo("", err=True)
        if out is not sys.stdout.buffer:
            out.close()
    where = "standard output" if output == "-" else output
    click.echo(f"{res.packets} packets captured in {target} ({res.bytes} bytes) to {where}",
               err=True)
    if stop.is_set():
        raise KeyboardInterrupt  # ended by Ctrl-C or SIGTERM: exit 130, as any command


def register(group: click.Group) -> None:
    group.add_command(capture)
