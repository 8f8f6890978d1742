"""The kernels' cache guard: Numba cache files go when any kernel source changes."""

from invswarm.kernels import drop_stale_cache


def test_cache_files_go_when_a_source_changes(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 2\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    old = cache / "a.f-1.py311.nbi"
    old.write_text("stale")
    assert drop_stale_cache(tmp_path)
    assert not old.exists()
    fresh = cache / "a.f-1.py311.nbc"
    fresh.write_text("compiled")
    assert not drop_stale_cache(tmp_path)  # nothing changed: the cache stays
    assert fresh.exists()
    (tmp_path / "b.py").write_text("y = 3\n")  # a callee's file changes
    assert drop_stale_cache(tmp_path)
    assert not fresh.exists()
