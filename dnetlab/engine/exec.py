"""How a command runs on a host: in a lab container (an API exec; over SSH an attached
exec on a channel of its own to the engine's socket, or where the host gives none an exec
that keeps to the pooled channel, or many execs in one SSH command with `hostexec`), or
in a short-lived helper container that shares a network namespace.

A script (`sh -c SCRIPT`) larger than `hostexec.ARGV_SCRIPT_MAX` would fail with E2BIG as
an argument, so it takes another way in: on the exec's stdin (`sh -s`) locally, as a file
put into the container over SSH and in a helper, as a here-document over `hostexec`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass

from dnetlab.engine import hijack, hostexec
from dnetlab.engine.connect import Connection
from dnetlab.engine.errors import EngineError, EngineUnreachable, gist, translated
from dnetlab.engine.helpers import helper_name, remove_helper
from dnetlab.engine.ssh import engine_channel, run_command, streams_to_engine, take_prepared

_EXEC_POLL_S = 0.05
_HELPER_SCRIPT = ".dnetlab-script"  # a big script's file in a helper container's root


@dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str


def exec_in(conn: Connection, container: str, argv: list[str], user: str) -> ExecResult:
    # Over the network, a script's output goes through a file, not the hijacked attach
    # stream: over SSH that saves a channel per exec, and over tcp:// the SDK could lose
    # output that arrived together with the attach response's headers (seen as a batch
    # with no output at all, now and then)
    if conn.url.startswith(("ssh://", "tcp://")) and argv[:2] == ["sh", "-c"]:
        return _exec_via_file(conn, container, argv[2], user)
    if conn.url.startswith("ssh://") and streams_to_engine(conn.api):
        done = _exec_on_engine_channel(conn, container, argv, user)
        if done is not None:
            return done
    if argv[:2] == ["sh", "-c"] and len(argv) == 3 and hostexec.too_big_for_argv(argv[2]):
        return _exec_via_stdin(conn, container, argv[2], user)
    with translated(f"host {conn.host.key}: exec in {container}"):
        ex = conn.api.exec_create(container, argv, stdout=True, stderr=True, user=user)
        out = conn.api.exec_start(ex["Id"], demux=False)
        code = conn.api.exec_inspect(ex["Id"]).get("ExitCode")
    text = out.decode(errors="replace") if isinstance(out, bytes) else str(out or "")
    return ExecResult(int(code) if code is not None else -1, text)


def _exec_on_engine_channel(conn: Connection, container: str, argv: list[str],
                            user: str, status_mark: str | None = None) -> ExecResult | None:
    """An attached exec over SSH, made and run on a new channel to the engine's socket (a
    channel costs sshd a socket connect, not a `docker` process; the pool is not used),
    its output read by `hijack`. Its exit status is asked of the engine after, unless the
    script prints it last as `STATUS_MARK RC` (`_attach_job`'s do). None when the host
    refused the channel: the caller takes another way."""
    what = f"host {conn.host.key}: exec in {container}"
    with translated(what):
        chan = engine_channel(conn.api, conn.timeout)
        if chan is None:
            return None
        try:
            chan.settimeout(conn.timeout * 10)
            stream = hijack.EngineStream(chan, conn.api_version)
            exec_id = stream.create_exec(container, argv, user)
            out = stream.start_exec(exec_id).decode(errors="replace")
        except hijack.ExecRefused as exc:
            raise EngineError(f"{what}: {exc}") from exc
        finally:
            chan.close()
        if status_mark is not None:
            body, sep, last = out.rstrip("\n").rpartition(f"\n{status_mark} ")
            if sep and last.lstrip("-").isdigit():
                return ExecResult(int(last), body)
        if _connection_lost(conn):
            # the stream ended because the connection did, not the exec
            raise EngineUnreachable(f"{what}: the SSH connection was lost before the exec "
                                    "ended")
        code = conn.api.exec_inspect(exec_id).get("ExitCode")
    return ExecResult(int(code) if code is not None else -1, out)


def _exec_via_file(conn: Connection, container: str, script: str, user: str) -> ExecResult:
    """An exec that reuses the host's SSH channels.

    Attaching to an exec hijacks its HTTP connection, so over SSH every attached exec
    costs a new channel (a login shell and a remote `docker system dial-stdio`). Here
    the exec runs detached with its output in a file in the container, and plain
    requests on the pooled channel poll for its end and fetch the file.
    """
    import uuid

    run_id = uuid.uuid4().hex[:12]
    path = f"/tmp/.dnetlab-exec-{run_id}"
    # the output of the previous batch was read already: removing it here saves an
    # exec (one batch runs in a container at a time)
    wrapped = f"rm -f /tmp/.dnetlab-exec-*; ( {script}\n) >{path} 2>&1"
    api = conn.api
    with translated(f"host {conn.host.key}: exec in {container}"):
        if hostexec.too_big_for_argv(script):
            # too big for an argument: the script goes in first as a file, by a plain
            # request on the pooled channel (an attached stdin would cost a new channel)
            name = f".dnetlab-script-{run_id}"
            script_path = f"/tmp/{name}"
            api.put_archive(container, "/tmp", file_archive(name, script))
            wrapped = (f"rm -f /tmp/.dnetlab-exec-*; ( . {script_path}\n) >{path} 2>&1; "
                       f"c=$?; rm -f {script_path}; exit $c")
        ex = api.exec_create(container, ["sh", "-c", wrapped], stdout=False, stderr=False,
                             user=user)
        api.exec_start(ex["Id"], detach=True)
        deadline = time.monotonic() + conn.timeout * 10
        pause = _EXEC_POLL_S / 5
        while True:
            time.sleep(pause)
            info = api.exec_inspect(ex["Id"])
            if not info.get("Running") or time.monotonic() > deadline:
                break
            pause = min(pause * 2, _EXEC_POLL_S)
        chunks, _ = api.get_archive(container, path)
        output = read_archive(chunks)
    code = info.get("ExitCode")
    return ExecResult(int(code) if code is not None else -1, output)


def _exec_via_stdin(conn: Connection, container: str, script: str, user: str) -> ExecResult:
    """`sh -s` with the script on its stdin: an attached exec, as `docker exec -i` makes.

    The script goes in from a thread of its own while this one reads the output, so that
    neither side can stall the other whatever the script prints before its end; the
    write side is then closed, which the engine passes on as the end of stdin.
    """
    import socket
    import threading

    from docker.utils.socket import frames_iter

    api = conn.api
    data = script.encode(errors="replace")
    with translated(f"host {conn.host.key}: exec in {container}"):
        ex = api.exec_create(container, ["sh", "-s"], stdin=True, stdout=True, stderr=True,
                             user=user)
        sock = api.exec_start(ex["Id"], socket=True)
        raw = getattr(sock, "_sock", sock)  # the socket under the SDK's SocketIO

        def feed() -> None:
            with suppress(OSError):  # the shell ended early: its output says why
                raw.sendall(data)
                raw.shutdown(socket.SHUT_WR)

        writer = threading.Thread(target=feed, name="dnetlab-exec-stdin", daemon=True)
        writer.start()
        try:
            out = b"".join(chunk for _stream, chunk in frames_iter(sock, tty=False))
        finally:
            writer.join(timeout=conn.timeout)
            sock.close()
        code = api.exec_inspect(ex["Id"]).get("ExitCode")
    return ExecResult(int(code) if code is not None else -1, out.decode(errors="replace"))


def file_archive(name: str, text: str) -> bytes:
    """A tar stream holding one file, as `PUT /containers/ID/archive` takes it."""
    import io
    import tarfile

    data = text.encode(errors="replace")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def read_archive(chunks: Iterable[bytes]) -> str:
    """The text of the one file in a tar stream, as `GET /containers/ID/archive` sends it."""
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as tar:
        member = tar.next()
        handle = tar.extractfile(member) if member is not None else None
        return handle.read().decode(errors="replace") if handle is not None else ""


def runs_execs_over_ssh(conn: Connection) -> bool:
    """True when `exec_many` sends one SSH command instead of one exec per job. Over SSH
    it always does: an attached exec costs a channel (the engine ends the connection
    with the exec), so one exec per job would make the channels grow with the
    containers; the one command keeps them to one per host."""
    return conn.ssh_client() is not None


# Over SSH, where the host gives channels to its engine's socket, the first ATTACH_MAX
# jobs of an `exec_many` run at once as attached execs, each made and run on a channel of
# its own (no process starts on the host: a `docker exec` costs it some 15 ms of CPU
# more), while the rest go in the one SSH command. The cap keeps a host's channels per
# call bounded whatever the number of jobs: ATTACH_MAX attached, the command's session.
ATTACH_MAX = 8
CHANNELS_PER_CALL = ATTACH_MAX + 1


def exec_many(conn: Connection, jobs: Sequence[hostexec.Job], parallel: int) -> list[
        ExecResult | EngineError]:
    """Run `sh -c SCRIPT` in each job's container, at most `parallel` at a time: one
    command on the host's existing SSH connection runs them with the host's `docker exec`
    (the CLI that the SSH transport itself needs), but for the first `ATTACH_MAX` where
    the host gives channels to its engine's socket (attached execs, alongside). Only
    where `runs_execs_over_ssh`; elsewhere callers run `exec_in` per job, in parallel."""
    if conn.ssh_client() is None:
        raise ValueError(f"host {conn.host.key}: exec_many needs an ssh:// engine")
    attach = [i for i, job in enumerate(jobs) if not hostexec.too_big_for_argv(job.script)]
    attach = attach[:ATTACH_MAX] if streams_to_engine(conn.api) else []
    if not attach:
        return _exec_script(conn, jobs, parallel)
    import concurrent.futures

    out: dict[int, ExecResult | EngineError] = {}
    taken = set(attach)
    rest = [i for i in range(len(jobs)) if i not in taken]
    with concurrent.futures.ThreadPoolExecutor(
            max(1, min(parallel, len(attach))),
            thread_name_prefix=f"dnetlab-attach-{conn.host.key}") as pool:
        attached = {i: pool.submit(_attach_job, conn, jobs[i]) for i in attach}
        if rest:  # meanwhile, in this thread
            out.update(zip(rest, _exec_script(conn, [jobs[i] for i in rest], parallel),
                           strict=True))
        for i, f in attached.items():
            if (got := f.result()) is not None:
                out[i] = got
    refused = [i for i in attach if i not in out]  # the host stopped giving channels
    if refused:
        out.update(zip(refused, _exec_script(conn, [jobs[i] for i in refused], parallel),
                       strict=True))
    return [out[i] for i in range(len(jobs))]


def _attach_job(conn: Connection, job: hostexec.Job) -> ExecResult | EngineError | None:
    """One job as an attached exec, told apart as in the SSH command: its script wrapped
    the same way (stderr joined in order; a shell that never started is docker's error),
    and its status printed after it (no request for it)."""
    mark = hostexec.new_mark()
    script = f"{hostexec.wrapped(job.script, mark)}; printf '\\n%s %d\\n' {mark} $?"
    try:
        got = _exec_on_engine_channel(conn, job.container, ["sh", "-c", script], "", mark)
    except EngineError as exc:
        return exc
    if got is None:
        return None
    r = hostexec.result_of(got.output.encode(), b"", got.exit_code, mark)
    return ExecResult(r.exit_code, r.output) if r.started else _not_started(conn, job, r)


def _exec_script(conn: Connection, jobs: Sequence[hostexec.Job], parallel: int) -> list[
        ExecResult | EngineError]:
    """The jobs in one SSH command (`hostexec`'s script of `docker exec`s)."""
    client = conn.ssh_client()
    import paramiko  # loaded already: the SSH transport uses it

    mark = hostexec.new_mark()
    script = hostexec.host_script(jobs, mark, parallel)
    what = f"host {conn.host.key}: docker exec over SSH"
    try:
        # the session `verify` prepared when it connected (`connect.preparing`), if any
        chan = take_prepared(conn.api, hostexec.COMMAND)
        reply, err, status = run_command(client, hostexec.COMMAND, script.encode(),
                                         conn.timeout * 10, chan)
        results = hostexec.parse(reply, mark, len(jobs))
    except hostexec.FramingError as exc:
        detail = err.decode(errors="replace").strip() or str(exc)
        if _connection_lost(conn):
            # the reply was cut short because the connection went, not the command
            return [EngineUnreachable(f"{what}: the SSH connection was lost before the host "
                                      "replied") for _ in jobs]
        return [EngineError(f"{what} (exit {status}): {detail}") for _ in jobs]
    except (OSError, EOFError, paramiko.SSHException) as exc:
        return [EngineUnreachable(f"{what}: the SSH connection was lost ({gist(exc)})")
                for _ in jobs]
    return [ExecResult(r.exit_code, r.output) if r.started else _not_started(conn, job, r)
            for job, r in zip(jobs, results, strict=True)]


def _connection_lost(conn: Connection) -> bool:
    """True when the host's SSH connection is gone (what cut a reply short)."""
    client = conn.ssh_client()
    transport = client.get_transport() if client is not None else None
    return transport is None or not transport.is_active()


def _not_started(conn: Connection, job: hostexec.Job, r: hostexec.JobResult) -> EngineError:
    """Why docker did not run a job's shell: the container's fault (no `sh`, gone), or the
    engine's absence (dockerd stopped behind a working SSH login)."""
    what = f"host {conn.host.key}: exec in {job.container}: {r.output}"
    if "Cannot connect to the Docker daemon" in r.output:
        return EngineUnreachable(what)
    return EngineError(what)


def run_helper(conn: Connection, image: str, argv: list[str], network_mode: str,
               helper_labels: dict[str, str], timeout: float,
               cap_add: tuple[str, ...] = ()) -> ExecResult:
    """Run argv in a short-lived container sharing a network namespace (another
    container's, or the host's); it is removed whatever happens."""
    api = conn.api
    cid = None
    name = helper_name("helper")
    script = argv[2] if argv[:2] == ["sh", "-c"] and len(argv) == 3 else None
    big = script is not None and hostexec.too_big_for_argv(script)
    with translated(f"host {conn.host.key}: helper container from {image}"):
        try:
            cid = api.create_container(
                image, command=["sh", f"/{_HELPER_SCRIPT}"] if big else argv,
                name=name, labels=helper_labels, detach=True,
                host_config=api.create_host_config(network_mode=network_mode,
                                                   cap_add=list(cap_add) or None))["Id"]
            if big and script is not None:
                # too big for the command line: a file in the helper, put before it starts
                api.put_archive(cid, "/", file_archive(_HELPER_SCRIPT, script))
            api.start(cid)
            code = api.wait(cid, timeout=timeout).get("StatusCode", -1)
            out = api.logs(cid, stdout=True, stderr=True)
        finally:
            remove_helper(api, cid, name)
    text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
    return ExecResult(int(code), text)
