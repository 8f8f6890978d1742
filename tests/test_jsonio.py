"""Reading JSON with clear errors; atomic writes: an interrupted write leaves the previous file
whole and no stray temp file, a written file gets the mode of the user's umask."""

import json
import os
import stat

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


@pytest.mark.parametrize("text,problem", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"model": "sfi", "model": "network"}', "names the key 'model' twice"),
    ('{"a": {"b": 1, "b": 2}}', "names the key 'b' twice"),
    ("1" * 5000, "an integer of more digits than Python reads"),
    ('{"a": NaN', "not valid JSON"),
])
def test_hostile_json_is_an_input_error_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "doc.json"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as err:
        jsonio.read_json(path)
    assert err.value.field == str(path)


def test_not_utf8_is_an_input_error(tmp_path):
    path = tmp_path / "doc.json"
    path.write_bytes(b'{"name": "\xff"}')
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 10\)"):
        jsonio.read_json(path)


def test_nan_and_infinity_reach_the_validators():
    # Python's parser reads them; the validators then name the field that holds them.
    doc = jsonio.parse_json('{"a": NaN, "b": -Infinity}')
    assert doc["a"] != doc["a"] and doc["b"] == float("-inf")


@pytest.fixture
def umask():
    """Set the process's umask for a test (``umask(0o077)``), restored after it."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_mode_of_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert jsonio.umask() == mask
    jsonio.write_json_atomic(tmp_path / "r.json", {"a": 1})
    jsonio.write_atomic(tmp_path / "r.png", b"\x89PNG")
    for name in ("r.json", "r.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_replaced_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "r.json"
    path.write_text("{}")
    path.chmod(0o640)
    jsonio.write_json_atomic(path, {"new": True})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert json.loads(path.read_text()) == {"new": True}


def test_umask_without_proc(monkeypatch, umask):
    """Where /proc/self/status is missing, the mask is set and restored."""
    def no_proc(*args, **kwargs):
        raise FileNotFoundError("/proc/self/status")

    monkeypatch.setattr(jsonio, "open", no_proc, raising=False)
    umask(0o027)
    assert jsonio.umask() == 0o027
    assert os.umask(0o027) == 0o027  # and left as it was


def test_unwritable_path_is_an_input_error(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(InputError, match=r"dir: cannot write file"):
        jsonio.write_json_atomic(tmp_path / "dir", {"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["dir"]
