"""The per-file result cache."""

from __future__ import annotations

import hashlib
import os

import pytest

from convlint.cache import CACHEDIR_TAG, Cache
from convlint.findings import ERROR, Finding, Fix


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


F = Finding(
    "CVL004", ERROR, "decoder does not restore 64", "m.py", 3, 5, 4, 9,
    fix=Fix("set output_padding=1", "output_padding=1", ((3, 20, 3, 20, ", output_padding=1"),)),
    notes=("encoder at line 2",),
)


def make(tmp_path, fp="f" * 32, version="1.0"):
    return Cache(tmp_path / ".convlint_cache", fp, root=tmp_path, version=version)


def test_round_trip_keeps_every_field_of_a_finding(tmp_path):
    c = make(tmp_path)
    c.put("m.py", sha(b"x"), [F], {})
    got = make(tmp_path).get("m.py", sha(b"x"))
    assert got is not None
    assert got.findings == [F] and got.findings[0].notes == F.notes and got.findings[0].fix == F.fix


def test_cache_dir_has_gitignore_and_cachedir_tag(tmp_path):
    make(tmp_path).put("m.py", sha(b"x"), [], {})
    d = tmp_path / ".convlint_cache"
    assert (d / ".gitignore").read_text().splitlines()[-1] == "*"
    tag = (d / "CACHEDIR.TAG").read_text()
    assert tag == CACHEDIR_TAG and tag.startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_changed_content_version_fingerprint_or_path_is_a_miss(tmp_path):
    make(tmp_path).put("m.py", sha(b"x"), [F], {})
    assert make(tmp_path).get("m.py", sha(b"y")) is None
    assert make(tmp_path, version="2.0").get("m.py", sha(b"x")) is None
    assert make(tmp_path, fp="0" * 32).get("m.py", sha(b"x")) is None
    assert make(tmp_path).get("other.py", sha(b"x")) is None
    assert make(tmp_path).get("m.py", sha(b"x")) is not None


def test_entry_is_invalid_when_a_dependency_changed_or_appeared(tmp_path):
    parts = tmp_path / "parts.py"
    parts.write_bytes(b"A = 1\n")
    make(tmp_path).put("m.py", sha(b"x"), [F], {"parts.py": sha(b"A = 1\n"), "missing_mod.py": None})
    assert make(tmp_path).get("m.py", sha(b"x")) is not None
    parts.write_bytes(b"A = 2\n")
    assert make(tmp_path).get("m.py", sha(b"x")) is None
    parts.write_bytes(b"A = 1\n")
    (tmp_path / "missing_mod.py").write_bytes(b"")
    assert make(tmp_path).get("m.py", sha(b"x")) is None, "a module that now exists invalidates the entry"


def test_absolute_dependency_paths_work(tmp_path):
    dep = tmp_path / "lib" / "blocks.py"
    dep.parent.mkdir()
    dep.write_bytes(b"B = 1\n")
    make(tmp_path).put("m.py", sha(b"x"), [], {str(dep): sha(b"B = 1\n")})
    assert make(tmp_path).get("m.py", sha(b"x")) is not None


def test_corrupt_entry_is_a_miss_not_an_error(tmp_path):
    c = make(tmp_path)
    c.put("m.py", sha(b"x"), [F], {})
    entry = c._entry(c.key("m.py", sha(b"x")))
    for garbage in (b"{not json", b"[]", b'{"sha256": 1}', b"\xff\xfe"):
        entry.write_bytes(garbage)
        assert make(tmp_path).get("m.py", sha(b"x")) is None


def test_read_only_cache_dir_silently_disables_writes(tmp_path):
    d = tmp_path / ".convlint_cache"
    d.mkdir()
    os.chmod(d, 0o500)
    try:
        if os.access(d, os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        c = make(tmp_path)
        c.put("m.py", sha(b"x"), [F], {})  # must not raise
        assert c.writable is False
        assert c.get("m.py", sha(b"x")) is None
    finally:
        os.chmod(d, 0o755)


def test_unwritable_cache_location_disables_writes(tmp_path):
    (tmp_path / "file").write_text("")
    c = Cache(tmp_path / "file" / "cache", "f" * 32, root=tmp_path, version="1")
    c.put("m.py", sha(b"x"), [F], {})
    assert c.writable is False


def test_writes_leave_no_temporary_files(tmp_path):
    c = make(tmp_path)
    for i in range(5):
        c.put(f"m{i}.py", sha(b"%d" % i), [F], {})
    leftovers = [p for p in (tmp_path / ".convlint_cache").rglob(".tmp-*")]
    assert leftovers == []
