"""The user's own dnetlab directory (`$XDG_CONFIG_HOME/dnetlab`, else `~/.config/dnetlab`):
state that belongs to the person, not to a working directory a shared repository may hold.
"""

from __future__ import annotations

import errno
import hmac
import os
import secrets
import stat
from hashlib import sha256
from pathlib import Path

from dnetlab.errors import UsageError

_KEY_FILE = "record.key"
_KEY_BYTES = 32


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dnetlab"


def private_dir(path: Path) -> Path:
    """`path` as a real directory of this user's, mode 0700: created if missing, never a
    symlink (whatever it points at is not ours to write through)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        raise UsageError(f"cannot make the directory {path}: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is not a directory (a symlink or a file); dnetlab keeps "
                         f"its state in a real directory there: remove it (rm {path})")
    if info.st_uid != os.getuid():
        raise UsageError(f"{path} belongs to another user (uid {info.st_uid}); dnetlab "
                         "keeps only its own state there: remove it or work elsewhere")
    if stat.S_IMODE(info.st_mode) != 0o700:
        path.chmod(0o700)
    return path


def open_nofollow(path: Path, flags: int, mode: int = 0o600) -> int:
    """os.open that refuses a symlink: a link planted in a directory of ours would make
    dnetlab write, truncate or read whatever it points at."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"{path} is a symlink; dnetlab never follows links among its "
                             f"own files: remove it (rm {path})") from None
        raise


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, mode 0600, through no symlink."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover or a planted link: unlink never follows
    fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)  # rename replaces a link itself, never its target


def _key() -> bytes:
    """A random key of this user's, made on first use; it lets dnetlab tell the records
    it wrote itself from files that came with a repository."""
    path = private_dir(config_dir()) / _KEY_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        key = secrets.token_bytes(_KEY_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another run made it meanwhile: use theirs
            return _key()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror}); remove it, and dnetlab "
                         "makes a new one") from None
    with os.fdopen(fd, "rb") as fh:
        key = fh.read(_KEY_BYTES + 1)
    if len(key) != _KEY_BYTES:
        raise UsageError(f"{path} is damaged; remove it, and dnetlab makes a new one")
    return key


def seal(text: str) -> str:
    """A MAC of `text` under the user's key."""
    return hmac.new(_key(), text.encode("utf-8", "surrogatepass"), sha256).hexdigest()


def sealed_by_me(text: str, mac: str) -> bool:
    return bool(mac) and hmac.compare_digest(seal(text), mac)
