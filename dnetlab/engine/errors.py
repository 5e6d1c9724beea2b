"""What an engine refused, in the engine's words: `EngineError` and the translation of the
SDK's exceptions into it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from dnetlab.errors import DnetlabError, ExitCode


class EngineError(DnetlabError):
    """An engine refused an operation."""

    exit_code = ExitCode.FAILED


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Turn an SDK failure inside the block into an `EngineError` that starts with `what`;
    anything else passes through unchanged."""
    try:
        yield
    except Exception as exc:
        # looked up, not imported: a read through the socket never loads the SDK, and the
        # SDK may have been loaded inside the block
        docker = sys.modules.get("docker")
        if docker is not None and isinstance(exc, docker.errors.APIError):
            explanation = exc.explanation or str(exc)
            if isinstance(explanation, bytes):
                explanation = explanation.decode(errors="replace")
            raise EngineError(f"{what}: {explanation}") from exc
        if docker is not None and isinstance(exc, docker.errors.DockerException):
            raise EngineError(f"{what}: {exc}") from exc
        raise
