"""Reading JSON documents with clear errors, and writing files atomically."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from .errors import InputError


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON document; a missing or unreadable file or bad JSON raises
    :class:`InputError` naming the file.

    Bad JSON includes what Python's parser would let through or fail on in its own way: an
    object that names a key twice (the parser would keep the last value in silence), nesting
    deeper than the parser's recursion allows, an integer of more digits than Python
    converts. ``NaN`` and ``Infinity`` are parsed, so that the validators name the field
    that holds them.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(p), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(str(p), f"cannot read file ({exc.strerror or exc})") from None
    return parse_json(text, str(p))


def parse_json(text: str, where: str = "document") -> Any:
    """Parse JSON text; bad JSON raises :class:`InputError` on ``where`` (see
    :func:`read_json`)."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(where, f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except _DuplicateKey as exc:
        raise InputError(where, f"not valid JSON here: an object names the key {exc.key!r} "
                                f"twice") from None
    except RecursionError:
        raise InputError(where, "not valid JSON here: nested too deeply") from None
    except ValueError:  # the one other ValueError of the parser
        raise InputError(where, "not valid JSON here: an integer of more digits than Python "
                                "reads (4,300)") from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


_umask_lock = threading.Lock()


def umask() -> int:
    """The process's file mode creation mask.

    Read from ``/proc/self/status`` where there is one; elsewhere set and restored, under a
    lock (the mask is the process's: a file another thread creates in between would get
    mode 0666).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def write_atomic(path: str | os.PathLike, text: str | bytes, *, sync: bool = True) -> None:
    """Write ``text`` (or bytes) to ``path`` through a temporary file in the same folder and a
    rename.

    A reader sees either the old file or the whole new one, never a partial write. With
    ``sync`` the data reach the disk before the rename, so that they also survive a crash of
    the machine (not needed for files that live no longer than the process reading them).
    The file gets the mode that writing it in place would give: a new file ``0666`` less
    the user's umask, a file replaced keeps its mode (not the ``0600`` of the temporary
    file).
    A path that cannot be written raises :class:`InputError` naming it.
    """
    p = Path(path)
    try:
        _write(p, text.encode("utf-8") if isinstance(text, str) else text, sync)
    except OSError as exc:
        raise InputError(str(p), f"cannot write file ({exc.strerror or exc})") from None


def _write(p: Path, data: bytes, sync: bool) -> None:
    folder = p.parent if str(p.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode = os.stat(p).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str | os.PathLike, doc: Any) -> None:
    """Write a JSON document atomically (see :func:`write_atomic`)."""
    write_atomic(path, json.dumps(doc, indent=2) + "\n")
