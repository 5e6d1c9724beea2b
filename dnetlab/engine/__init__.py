"""One Docker engine: connecting, reading, changing, exec. The only code that
imports `docker` (the SDK) or paramiko.

Callers use `dnetlab.engine.engine.Engine`, one per host; each module behind it answers
one question: `connect` (how to talk to the engine: socket reader, SDK, SSH pool),
`diagnose` (why it cannot be reached), `sshconfig` (an ssh:// URL resolved with the
user's SSH config), `sshtransport` (the SSH connection to it and the SDK's adapter on it),
`ssh` (a command on that connection), `errors`
(what it refused), `read` (what is there), `change` (networks, volumes, containers),
`exec` and `hostexec` (running commands), `images`, `swarm`, `support` (what the kernel
lacks).

Nothing is imported here, so that `dnetlab.engine.X` loads only X and what X needs.
"""
