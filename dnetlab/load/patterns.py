"""Whether a scenario's regular expression compiles, with the engine that later matches
it (`probes.pattern`), and without letting a pattern take the loader down.

A pattern whose repeat counts are small compiles in place in microseconds. One with large
counts can ask the engine for gigabytes (`a{4294967294}` was killed by the kernel), so it
is compiled in a forked child with a deadline and a memory limit, like a template's
rendering (`isolate`): what goes over them is a located error too.
"""

from __future__ import annotations

from dnetlab.load.isolate import Overrun, run_isolated
from dnetlab.probes import pattern

COMPILE_DEADLINE_S = 2.0
COMPILE_MEMORY_BYTES = 128 * 1024 * 1024  # beyond what the process already uses
COSTLY_HINT = "large repeat counts (a{1000000}) make it costly: use + or *, or a smaller count"


def problem(text: str) -> tuple[str, str | None] | None:
    """Why `text` is not a usable regular expression, and a hint; None when it is."""
    too_big = (f"the regular expression needs more than {COMPILE_MEMORY_BYTES // 2**20} MB "
               "of memory to compile")
    try:
        if pattern.cheap_to_compile(text):
            found = pattern.compile_problem(text)
        else:
            found = run_isolated(lambda: pattern.compile_problem(text),
                                 timeout_s=COMPILE_DEADLINE_S,
                                 memory_bytes=COMPILE_MEMORY_BYTES)
    except MemoryError:
        return too_big, COSTLY_HINT
    except Overrun as exc:
        if exc.what == "time":
            return (f"the regular expression took longer than {COMPILE_DEADLINE_S:g} s to "
                    "compile and was stopped", COSTLY_HINT)
        return too_big, COSTLY_HINT
    return None if found is None else (found, None)
