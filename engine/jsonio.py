"""Reading JSON documents with clear errors, and writing files atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import InputError


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON document; a missing file or bad JSON raises :class:`InputError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(p), f"cannot read file ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(str(p), f"not valid JSON ({exc.msg} at line {exc.lineno})") from None


def write_atomic(path: str | os.PathLike, text: str | bytes, *, sync: bool = True) -> None:
    """Write ``text`` (or bytes) to ``path`` through a temporary file in the same folder and a
    rename.

    A reader sees either the old file or the whole new one, never a partial write. With
    ``sync`` the data reach the disk before the rename, so that they also survive a crash of
    the machine (not needed for files that live no longer than the process reading them).
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    try:
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as fh:
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
