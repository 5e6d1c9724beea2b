"""Run a function in a forked child with hard limits on time and memory.

Jinja's sandbox guards attribute access, and dnetlab caps `*`, `**` and `range`, but a
template can still make one huge string in a single C call (`'%0500000000d' % 1`, a
`center` or `indent` filter, `~` doubling in a loop) that no check between bytecodes can
stop. A child process with a data limit and a deadline stops all of them the same way,
whatever the filter, and leaves the caller's memory untouched.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Overrun(Exception):
    """The child went over its time or memory limit, or died."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what  # "time", "memory" or "crash"


def _data_in_use() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _child(fn: Callable[[], Any], write_fd: int, memory_bytes: int) -> None:
    code = 0
    try:
        limit = _data_in_use() + memory_bytes
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        try:
            outcome: tuple[str, Any] = ("ok", fn())
        except MemoryError:
            outcome = ("overrun", "memory")
        except BaseException as exc:  # handed to the parent, which re-raises it
            outcome = ("raised", exc)
        try:
            data = pickle.dumps(outcome)
        except Exception:  # an exception that does not pickle: say what it was
            data = pickle.dumps(("raised", RuntimeError(repr(outcome[1])[:500])))
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view):]
    except MemoryError:
        code = 3
    except BaseException:
        code = 4
    finally:
        # never return into the caller's stack, atexit handlers or buffered output
        os._exit(code)


def run_isolated(fn: Callable[[], T], *, timeout_s: float, memory_bytes: int) -> T:
    """`fn()` in a forked child: its value, or its exception raised here, or Overrun.

    The value and any exception must pickle. Use only where no other thread holds a lock
    the child needs (dnetlab loads scenarios before it starts any thread).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's exit is its report
        os.close(read_fd)
        _child(fn, write_fd, memory_bytes)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise Overrun("time")
    if not chunks:
        code = os.waitstatus_to_exitcode(status)
        raise Overrun("memory" if code == 3 or code == -signal.SIGKILL else "crash")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "ok":
        return value  # type: ignore[no-any-return]
    if kind == "overrun":
        raise Overrun(str(value))
    raise value
