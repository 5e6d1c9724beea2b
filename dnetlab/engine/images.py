"""How an image gets onto a host: pulled from its registry, or streamed from another engine
(`docker save | docker load` over the connections already open)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError, translated


def normalise_ref(ref: str) -> str:
    """The reference as the engine lists it: with its tag, `latest` when none is given."""
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last or "@" in last else f"{ref}:latest"


def pull(conn: Connection, ref: str, progress: Callable[[str], None] | None) -> None:
    repo, _, tag = normalise_ref(ref).rpartition(":")
    with translated(f"host {conn.host.key}: pulling image {ref}"):
        for event in conn.api.pull(repo, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise EngineError(f"host {conn.host.key}: pulling image {ref}: "
                                  f"{event['error']}")
            if progress is not None and event.get("status"):
                progress(f"{ref}: {event['status']} {event.get('progress', '')}".strip())


def save_image(conn: Connection, ref: str) -> Iterator[bytes]:
    with translated(f"host {conn.host.key}: saving image {ref}"):
        chunks: Iterator[bytes] = conn.api.get_image(ref)
    return chunks


def load_image(conn: Connection, data: Iterator[bytes]) -> None:
    with translated(f"host {conn.host.key}: loading an image"):
        for event in conn.api.load_image(data):
            if isinstance(event, dict) and event.get("error"):
                raise EngineError(f"host {conn.host.key}: loading an image: "
                                  f"{event['error']}")


def has_image(conn: Connection, ref: str) -> bool:
    """True when the engine holds the image (one inspect; the list `observe` reads is
    the cheaper way for many images at once)."""
    docker = conn.sdk()
    with translated(f"host {conn.host.key}: inspecting image {ref}"):
        try:
            conn.api.inspect_image(normalise_ref(ref))
        except docker.errors.ImageNotFound:
            return False
    return True
