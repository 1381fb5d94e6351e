"""The per-file result cache."""

from __future__ import annotations

import hashlib
import os

import pytest

from convlint.cache import CACHEDIR_TAG, Cache
from convlint.findings import ERROR, Finding, Fix


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


F = Finding("CVL003", ERROR, "conv 'b' gets 8 channels, built for 16", "m.py", 3, 5, 4, 9, notes=("'a' gives 8 (line 2)",))
FIXABLE = Finding(
    "CVL004", ERROR, "decoder does not restore 64", "m.py", 3, 5, 4, 9,
    fix=Fix("set output_padding=1", "output_padding=1", ((3, 20, 3, 20, ", output_padding=1"),)),
    notes=("encoder at line 2",),
)
KEY = b"k" * 32


def make(tmp_path, fp="f" * 32, version="1.0", key=KEY):
    return Cache(tmp_path / ".convlint_cache", fp, root=tmp_path, version=version, key=key)


def test_round_trip_keeps_every_field_of_a_finding(tmp_path):
    c = make(tmp_path)
    c.put("m.py", sha(b"x"), [F], {})
    got = make(tmp_path).get("m.py", sha(b"x"))
    assert got is not None
    assert got.findings == [F] and got.findings[0].notes == F.notes


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
    c = Cache(tmp_path / "file" / "cache", "f" * 32, root=tmp_path, version="1", key=KEY)
    c.put("m.py", sha(b"x"), [F], {})
    assert c.writable is False


def test_writes_leave_no_temporary_files(tmp_path):
    c = make(tmp_path)
    for i in range(5):
        c.put(f"m{i}.py", sha(b"%d" % i), [F], {})
    leftovers = [p for p in (tmp_path / ".convlint_cache").rglob(".tmp-*")]
    assert leftovers == []


# ----------------------------------------------------------------------------- only what convlint wrote

import json  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from convlint.cache import _FORMAT, _MAGIC, load_key  # noqa: E402
from convlint.cli import main  # noqa: E402
from convlint.config import ConfigError, load_config  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_an_entry_written_with_another_key_is_ignored_and_rewritten(tmp_path):
    make(tmp_path, key=b"a" * 32).put("m.py", sha(b"x"), [F], {})
    assert make(tmp_path, key=b"b" * 32).get("m.py", sha(b"x")) is None
    make(tmp_path, key=b"b" * 32).put("m.py", sha(b"x"), [F], {})
    assert make(tmp_path, key=b"b" * 32).get("m.py", sha(b"x")) is not None
    assert make(tmp_path, key=b"a" * 32).get("m.py", sha(b"x")) is None


def test_a_tampered_entry_is_ignored(tmp_path):
    c = make(tmp_path)
    c.put("m.py", sha(b"x"), [F], {})
    entry = c._entry(c.key("m.py", sha(b"x")))
    raw = entry.read_bytes()
    assert raw.startswith(_MAGIC)
    head, payload = raw[len(_MAGIC):].split(b"\n", 1)
    data = json.loads(payload)  # JSON, never pickle
    assert data["findings"][0]["code"] == "CVL003"
    data["findings"] = []  # hide the finding
    entry.write_bytes(_MAGIC + head + b"\n" + json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    assert make(tmp_path).get("m.py", sha(b"x")) is None


def test_findings_with_a_fix_are_never_stored_nor_served(tmp_path):
    c = make(tmp_path)
    c.put("m.py", sha(b"x"), [F, FIXABLE], {})
    assert c.get("m.py", sha(b"x")) is None
    assert not list((tmp_path / ".convlint_cache").rglob("*.json"))
    # even an authentic entry holding one (written by a convlint that stored them) is a miss
    key = c.key("m.py", sha(b"x"))
    payload = json.dumps(
        {"format": _FORMAT, "path": "m.py", "sha256": sha(b"x"), "findings": [finding_to_json(FIXABLE)], "deps": {}},
        sort_keys=True, separators=(",", ":"),
    ).encode()
    entry = c._entry(key)
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_bytes(_MAGIC + c._mac(key, payload).encode() + b"\n" + payload)
    assert c.get("m.py", sha(b"x")) is None


def test_the_key_is_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "xdg" / "convlint" / "key"
    k = load_key(path)
    assert k is not None and len(k) == 32
    assert load_key(path) == k
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600
        path.chmod(0o644)  # readable by others: not a secret any more
        assert load_key(path, create=False) is None
        path.chmod(0o600)
        link = tmp_path / "link"
        link.symlink_to(path)
        assert load_key(link, create=False) is None


def test_no_key_means_no_cache_and_no_error(tmp_path):
    (tmp_path / "xdg").write_text("a file where the key's folder should be")
    c = Cache(tmp_path / ".convlint_cache", "f" * 32, root=tmp_path, version="1", key_path=tmp_path / "xdg" / "convlint" / "key")
    c.put("m.py", sha(b"x"), [F], {})
    assert c.get("m.py", sha(b"x")) is None and c.writable is False
    assert not (tmp_path / ".convlint_cache").exists()


def test_a_key_inside_the_project_is_not_used(tmp_path):
    c = Cache(tmp_path / ".convlint_cache", "f" * 32, root=tmp_path, version="1", key_path=tmp_path / ".xdg" / "convlint" / "key")
    c.put("m.py", sha(b"x"), [F], {})
    assert c.key_bytes is None and not (tmp_path / ".xdg").exists() and not (tmp_path / ".convlint_cache").exists()


def test_nothing_is_written_outside_the_project_through_a_link(tmp_path):
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / ".convlint_cache").symlink_to(outside, target_is_directory=True)
    c = make(project)
    c.put("m.py", sha(b"x"), [F], {})
    assert list(outside.iterdir()) == [] and c.writable is False
    # a link planted deeper, in the bucket
    (project / ".convlint_cache").unlink()
    c = make(project)
    c.put("m0.py", sha(b"0"), [F], {})  # creates the cache and its bucket
    sub = c._entry(c.key("m.py", sha(b"x"))).parent
    sub.mkdir(parents=True, exist_ok=True)
    sub.rmdir()
    sub.symlink_to(outside, target_is_directory=True)
    c.put("m.py", sha(b"x"), [F], {})
    assert list(outside.iterdir()) == []


def test_a_folder_of_yours_gets_no_gitignore(tmp_path):
    d = tmp_path / "src"
    d.mkdir()
    (d / "model.py").write_text("x = 1\n")
    c = Cache(d, "f" * 32, root=tmp_path, version="1", key=KEY)
    c.put("m.py", sha(b"x"), [F], {})
    assert sorted(p.name for p in d.iterdir()) == ["model.py"] and c.writable is False


@pytest.mark.parametrize("value", ["../..", "..", ".", "/tmp/convlint-cache", "sub/../../x", "link/cache"])
def test_cache_dir_must_stay_inside_the_project(tmp_path, value):
    project = tmp_path / "project"
    project.mkdir()
    (project / "link").symlink_to(tmp_path, target_is_directory=True)
    (project / "pyproject.toml").write_text(f'[tool.convlint]\ncache-dir = "{value}"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(cwd=project)
    assert "tool.convlint.cache-dir" in str(exc.value) and "inside the project" in str(exc.value)


def test_cache_dir_inside_the_project_is_fine(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.convlint]\ncache-dir = "build/lint-cache"\n')
    assert load_config(cwd=tmp_path).cache_path == tmp_path / "build" / "lint-cache"


def test_a_committed_cache_hides_nothing_and_injects_no_fix(tmp_path, monkeypatch, capsys):
    """An attacker commits a .convlint_cache whose entries (valid for their own key, and for the
    predictable checkout path) say that discriminator.py is clean and that autoencoder.py needs a
    "fix" of their choosing. A victim with their own key runs convlint check --fix."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("discriminator.py", "autoencoder.py"):
        shutil.copy(EXAMPLES / name, repo / name)
    config = load_config(cwd=repo)
    attacker = Cache(config.cache_path, config.fingerprint(), root=config.root, key=b"x" * 32)
    evil = Fix("trust me", "x", ((1, 1, 1, 1, "import os; os.system('echo pwned')\n"),))
    for name, findings in (
        ("discriminator.py", []),
        ("autoencoder.py", [Finding("CVL004", ERROR, "forged", str(repo / "autoencoder.py"), 24, 13, 24, 70, fix=evil)]),
    ):
        data = (repo / name).read_bytes()
        attacker._prepare()
        key = attacker.key(repo / name, sha(data))
        payload = json.dumps(
            {"format": _FORMAT, "path": name, "sha256": sha(data), "findings": [finding_to_json(f) for f in findings], "deps": {}},
            sort_keys=True, separators=(",", ":"),
        ).encode()
        entry = attacker._entry(key)
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_bytes(_MAGIC + attacker._mac(key, payload).encode() + b"\n" + payload)
    assert attacker.get(repo / "discriminator.py", sha((repo / "discriminator.py").read_bytes())) is not None

    monkeypatch.chdir(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "victim-xdg"))
    assert main(["check", "--fix", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [(f["path"], f["code"]) for f in out] == [("discriminator.py", "CVL001")]
    fixed = (repo / "autoencoder.py").read_text()
    assert "pwned" not in fixed
    assert fixed.count("output_padding=1") == (EXAMPLES / "autoencoder.py").read_text().count("output_padding=1") + 1
    # and the victim's run rewrote the entry it could verify: a second run is served from it
    assert Cache.for_config(config).get(repo / "discriminator.py", sha((repo / "discriminator.py").read_bytes())) is not None


from convlint.cache import finding_to_json  # noqa: E402
