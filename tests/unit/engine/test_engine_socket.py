"""`ssh.engine_socket`: the engine's socket on an SSH host from its login environment, or
None where only `docker system dial-stdio` knows where the CLI goes."""

from __future__ import annotations

import pytest

from dnetlab.engine.ssh import DEFAULT_SOCKET, engine_socket


@pytest.mark.parametrize(("reply", "want"), [
    ("\n\n", DEFAULT_SOCKET),  # nothing set: the CLI's default socket
    ("", DEFAULT_SOCKET),
    ("unix:///run/user/1000/docker.sock\n\n", "/run/user/1000/docker.sock"),
    ("unix:///run/x.sock\ndefault\n", "/run/x.sock"),
    ("\n\n{\"auths\": {}}", DEFAULT_SOCKET),
    ("\n\n{\"currentContext\": \"default\"}", DEFAULT_SOCKET),
    ("tcp://10.0.0.1:2375\n\n", None),  # the CLI goes elsewhere: dial-stdio follows
    ("ssh://other\n\n", None),
    ("unix://\n\n", None),
    ("\nremote\n", None),  # DOCKER_CONTEXT
    ("\n\n{\"currentContext\": \"remote\"}", None),  # the config's context
    ("\n\n{not json", None),  # a config we cannot read: the CLI decides
    ("\n\n[1, 2]", None),
])
def test_the_socket_is_where_the_cli_would_go(reply: str, want: str | None) -> None:
    assert engine_socket(reply) == want
