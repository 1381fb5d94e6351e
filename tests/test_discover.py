"""Discovery: which files `convlint check` looks at."""

from __future__ import annotations

from pathlib import Path

import pytest

from convlint.source.discover import compile_pattern, discover


def make(root: Path, *names: str, content: str = "x = 1\n") -> None:
    for name in names:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)


def rel(root: Path, files) -> list[str]:
    return [f.relative_to(root).as_posix() for f in files]


def found(root: Path, *paths, **kw) -> list[str]:
    return rel(root, discover(list(paths) or ["."], cwd=root, **kw).files)


def test_walk_finds_py_and_pyi_sorted_and_skips_other_suffixes(tmp_path):
    make(tmp_path, "b.py", "a.pyi", "pkg/z.py", "pkg/a.py", "notes.txt", "script.pyx", "data.json")
    assert found(tmp_path) == ["a.pyi", "b.py", "pkg/a.py", "pkg/z.py"]


def test_default_path_is_current_directory(tmp_path, monkeypatch):
    make(tmp_path, "m.py")
    monkeypatch.chdir(tmp_path)
    assert rel(tmp_path, discover().files) == ["m.py"]


def test_duplicates_from_overlapping_paths_are_removed(tmp_path):
    make(tmp_path, "pkg/a.py", "pkg/b.py")
    assert found(tmp_path, "pkg", ".", "pkg/a.py", "./pkg/../pkg/a.py") == ["pkg/a.py", "pkg/b.py"]


def test_virtualenvs_and_tool_dirs_are_always_skipped(tmp_path):
    make(
        tmp_path,
        "src/m.py",
        ".venv/lib/x.py",
        "venv/x.py",
        ".git/hooks/x.py",
        "__pycache__/x.py",
        ".tox/py/x.py",
        ".nox/x.py",
        "node_modules/x.py",
        "build/lib/x.py",
        "dist/x.py",
        "lib/site-packages/x.py",
        ".convlint_cache/x.py",
        "myenv/lib/x.py",
    )
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    assert found(tmp_path) == ["src/m.py"]


def test_root_gitignore_globs_dirs_and_negation(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text(
        "# generated\n*_pb2.py\nout/\n!keep_pb2.py\nlogs\n\n"
    )
    make(tmp_path, "a.py", "x_pb2.py", "keep_pb2.py", "out/o.py", "sub/y_pb2.py", "sub/logs/l.py", "logs.py")
    assert found(tmp_path) == ["a.py", "keep_pb2.py", "logs.py"]


def test_nested_gitignore_applies_below_its_directory_and_overrides_parent(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("gen_*.py\n")
    make(tmp_path, "gen_a.py", "pkg/gen_b.py", "pkg/local.py", "other/local.py")
    (tmp_path / "pkg" / ".gitignore").write_text("local.py\n!gen_b.py\n")
    assert found(tmp_path) == ["other/local.py", "pkg/gen_b.py"]


def test_anchored_patterns_match_only_relative_to_their_gitignore(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("/top.py\nsrc/gen/\n")
    make(tmp_path, "top.py", "pkg/top.py", "src/gen/g.py", "lib/src/gen/g.py")
    assert found(tmp_path) == ["lib/src/gen/g.py", "pkg/top.py"]


def test_double_star_patterns(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("**/fixtures/**\na/**/z.py\n")
    make(tmp_path, "fixtures/f.py", "t/fixtures/deep/f.py", "a/z.py", "a/b/c/z.py", "b/z.py", "fixtures.py")
    assert found(tmp_path) == ["b/z.py", "fixtures.py"]


def test_file_in_ignored_directory_cannot_be_reincluded(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("vendor/\n!vendor/keep.py\n")
    make(tmp_path, "vendor/keep.py", "main.py")
    assert found(tmp_path) == ["main.py"]


def test_gitignore_of_parent_directories_applies_when_checking_a_subdirectory(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*_gen.py\n")
    make(tmp_path, "pkg/a.py", "pkg/b_gen.py")
    assert rel(tmp_path, discover(["pkg"], cwd=tmp_path).files) == ["pkg/a.py"]


def test_gitignore_can_be_turned_off(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("*.py\n")
    make(tmp_path, "a.py")
    assert found(tmp_path) == []
    assert found(tmp_path, respect_gitignore=False) == ["a.py"]


def test_config_exclude_and_extend_exclude(tmp_path):
    make(tmp_path, "a.py", "migrations/m.py", "legacy/old.py", "legacy/sub/old2.py", "pkg/test_x.py", "pkg/x.py")
    got = found(tmp_path, exclude=["migrations"], extend_exclude=["legacy/**", "test_*.py"])
    assert got == ["a.py", "pkg/x.py"]


def test_explicit_paths_are_checked_even_when_excluded_or_ignored(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    make(tmp_path, "ignored.py", "legacy/old.py", "build/gen.py", "notes.txt")
    got = found(tmp_path, "ignored.py", "legacy/old.py", "build/gen.py", "notes.txt", exclude=["legacy"])
    assert got == ["build/gen.py", "ignored.py", "legacy/old.py", "notes.txt"]


def test_force_exclude_applies_excludes_and_gitignore_to_explicit_paths(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("ignored.py\ngen/\n")
    make(tmp_path, "ignored.py", "legacy/old.py", "gen/g.py", "ok.py", ".venv/lib/v.py")
    got = found(
        tmp_path, "ignored.py", "legacy/old.py", "gen/g.py", "ok.py", ".venv/lib/v.py",
        exclude=["legacy"], force_exclude=True,
    )
    assert got == ["ok.py"]


def test_missing_paths_are_reported_not_raised(tmp_path):
    make(tmp_path, "a.py")
    d = discover(["a.py", "nope.py", "nodir"], cwd=tmp_path)
    assert rel(tmp_path, d.files) == ["a.py"]
    assert rel(tmp_path, d.missing) == ["nodir", "nope.py"]


def test_unreadable_directory_is_skipped(tmp_path):
    import os

    make(tmp_path, "a.py", "locked/b.py")
    os.chmod(tmp_path / "locked", 0)
    try:
        if os.access(tmp_path / "locked", os.R_OK):
            pytest.skip("running as a user that ignores permissions")
        assert found(tmp_path) == ["a.py"]
    finally:
        os.chmod(tmp_path / "locked", 0o755)


def test_symlinked_directories_are_not_followed(tmp_path):
    make(tmp_path, "pkg/a.py")
    (tmp_path / "pkg" / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert found(tmp_path) == ["pkg/a.py"]


@pytest.mark.parametrize(
    "pattern, path, is_dir, expected",
    [
        ("*.py", "a/b/c.py", False, True),
        ("*.py", "a/b/c.pyc", False, False),
        ("/a.py", "a.py", False, True),
        ("/a.py", "x/a.py", False, False),
        ("doc/*.py", "doc/x.py", False, True),
        ("doc/*.py", "doc/sub/x.py", False, False),
        ("doc/**/x.py", "doc/x.py", False, True),
        ("doc/**/x.py", "doc/a/b/x.py", False, True),
        ("build/", "build", False, False),
        ("build/", "build", True, True),
        ("a?c.py", "abc.py", False, True),
        ("a?c.py", "a/c.py", False, False),
        ("[ab].py", "b.py", False, True),
        ("[!ab].py", "b.py", False, False),
        ("[!ab].py", "c.py", False, True),
        ("\\#x.py", "#x.py", False, True),
        ("\\!x.py", "!x.py", False, True),
        ("trailing.py   ", "trailing.py", False, True),
    ],
)
def test_gitignore_pattern_matching(pattern, path, is_dir, expected):
    pat = compile_pattern(pattern)
    assert pat is not None
    assert pat.matches(path, is_dir) is expected


def test_comments_and_blank_lines_are_not_patterns():
    assert compile_pattern("# comment") is None
    assert compile_pattern("   ") is None
    assert compile_pattern("") is None
