"""Atomic writes: an interrupted write leaves the previous file whole and no stray temp file."""

import json
import os

import pytest

from invswarm.engine import jsonio
from invswarm.engine.errors import InputError


def test_write_then_read(tmp_path):
    path = tmp_path / "sub" / "r.json"
    jsonio.write_json_atomic(path, {"a": [1, 2]})
    assert jsonio.read_json(path) == {"a": [1, 2]}


def test_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    jsonio.write_json_atomic(path, {"old": True})

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        jsonio.write_json_atomic(path, {"new": True})
    assert json.loads(path.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        jsonio.read_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    with pytest.raises(InputError, match=r"bad.json: not valid JSON"):
        jsonio.read_json(bad)
