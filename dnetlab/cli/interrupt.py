"""Ctrl-C and SIGTERM as a request to stop: the running operation ends what it is doing
and returns; a second one stops at once (KeyboardInterrupt)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


@contextmanager
def interruptible(then: str = "letting running steps finish") -> Iterator[threading.Event]:
    """Ctrl-C or SIGTERM set the event it yields (the operation polls it); a second
    Ctrl-C stops at once. `then`: what happens before it ends."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo(f"\nstopping: {then} (Ctrl-C again to abort)", err=True)

    old_int = signal.signal(signal.SIGINT, handler)
    old_term = signal.signal(signal.SIGTERM, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
