"""Discovery: which files `convlint check` looks at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from convlint.source.discover import IgnoreFile, compile_pattern, discover


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


# ----------------------------------------------------------------------------- the glob matcher

def _reference_regex(line: str):
    """The regular expression convlint used to translate a gitignore line into (it backtracks
    exponentially on ``*a*a*…b``): the specification the linear matcher must agree with."""
    import re

    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/") if anchored else line
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c == "*":
            j = i
            while j < n and line[j] == "*":
                j += 1
            if j - i >= 2 and (i == 0 or line[i - 1] == "/") and (j == n or line[j] == "/"):
                out.append(".*" if j == n else "(?:.*/)?")
                i = j if j == n else j + 1
                continue
            out.append("[^/]*")
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[" and "]" in line[i + 2 :]:
            j = line.index("]", i + 2)
            body = line[i + 1 : j]
            neg = body[:1] in ("!", "^")
            out.append(("[^/" if neg else "[") + (body[1:] if neg else body) + "]")
            i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    return re.compile(body if anchored else "(?:.*/)?" + body, re.DOTALL)


from hypothesis import given, settings, strategies as st  # noqa: E402

_GLOBS = st.text(alphabet="ab*?/", min_size=1, max_size=9).filter(lambda g: g.strip("/") and "//" not in g) | st.sampled_from(
    ["[ab]", "[!a]b", "a/**/b", "**/a", "a/**", "**", "*a*a*b", "a?*", "[a-b]*"]
)
_PATHS = st.lists(st.text(alphabet="ab.", min_size=1, max_size=4), min_size=1, max_size=4).map("/".join)


@settings(max_examples=400, deadline=None, database=None)
@given(_GLOBS, _PATHS)
def test_the_linear_matcher_agrees_with_the_regex_translation(glob: str, path: str) -> None:
    pat = compile_pattern(glob)
    assert pat is not None
    assert pat.matches(path, True) == (_reference_regex(glob).fullmatch(path) is not None), (glob, path)


class _Counting(str):
    """A name that counts how often the matcher looks at it."""

    looks = 0

    def __getitem__(self, k):
        _Counting.looks += 1
        return str.__getitem__(self, k)

    def startswith(self, *a):
        _Counting.looks += 1
        return str.startswith(self, *a)

    def endswith(self, *a):
        _Counting.looks += 1
        return str.endswith(self, *a)

    def find(self, *a):
        _Counting.looks += 1
        return str.find(self, *a)


@pytest.mark.parametrize("glob", ["*a*a*a*a*a*a*a*a*a*a*a*a*b", "*a?a*a?a*a?a*a?a*a?a*b", "**/*a*/**/*a*/**/b"])
def test_a_backtracking_pattern_costs_at_most_name_times_pattern(glob: str) -> None:
    # A regular expression takes over 60 s for the first glob on a 35-character name (git: 0.01 s).
    pat = compile_pattern(glob)
    for n in (35, 255, 4000):
        name = "a" * n if "/" not in glob else "/".join(["a"] * (n // 2))
        _Counting.looks = 0
        matched = pat.glob._match(_Counting(name)) if "/" in glob else any(
            sg.match(_Counting(name)) for g in pat.glob.groups for sg in g
        )
        assert matched is False
        assert _Counting.looks <= (n + 1) * (len(glob) + 1)
    if "/" in glob:
        assert pat.matches("a/" * 50_000 + "b", False) is True
        assert pat.matches("a/" * 50_000 + "c", False) is False
    else:
        assert pat.matches("a" * 100_000 + "b", False) is True
        assert pat.matches("a" * 100_000, False) is False


def test_a_gitignore_with_a_backtracking_pattern_and_a_long_name(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*a*a*a*a*a*a*a*a*a*a*a*a*b.py\n")
    make(tmp_path, "a" * 200 + ".py", "a" * 12 + "b.py", "ab.py")
    assert found(tmp_path) == ["a" * 200 + ".py", "ab.py"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_gitignore_is_not_read_and_a_fifo_py_is_kept_for_cvl000(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / ".gitignore")  # reading it would block
    os.mkfifo(tmp_path / "pipe.py")
    make(tmp_path, "a.py")
    assert found(tmp_path) == ["a.py", "pipe.py"]


@pytest.mark.skipif(__import__("shutil").which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(
    "gitignore",
    [
        "*a*b.py\n",
        "a/**/b.py\n",
        "**/sub\n",
        "a/**\n!a/keep.py\n",
        "[ab]*.py\n!b*.py\n",
        "/top.py\nsub/?.py\n",
        "*a*a*a*b.py\n",  # git's own matcher backtracks too: with 12 stars and a 60-letter name it runs for minutes
        "a*/\n",
    ],
)
def test_discovery_agrees_with_git(tmp_path: Path, gitignore: str) -> None:
    import subprocess

    names = ["top.py", "ab.py", "b1.py", "a/b.py", "a/keep.py", "a/x/b.py", "a/x/y/b.py", "sub/c.py", "x/sub/d.py",
             "x/top.py", "aab.py", "ba.py", "abc/d.py", "a" * 4 + "b.py", "a" * 20 + ".py"]
    make(tmp_path, *names)
    (tmp_path / ".gitignore").write_text(gitignore)
    r = subprocess.run(["git", "init", "-q"], cwd=tmp_path, capture_output=True)
    assert r.returncode == 0, r.stderr
    git = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", "*.py"], cwd=tmp_path, capture_output=True, text=True)
    assert sorted(git.stdout.split()) == found(tmp_path)


def test_folders_nested_thousands_deep_are_walked(tmp_path: Path) -> None:
    # a recursive walk hit Python's recursion limit (an internal error) at about 1,000 levels
    d = tmp_path
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        for _ in range(1500):  # relative steps: the absolute path would pass PATH_MAX for makedirs
            os.mkdir("a")
            os.chdir("a")
        Path("m.py").write_text("x = 1\n")
    finally:
        os.chdir(cwd)
    try:
        files = discover(["."], cwd=d).files
        assert len(files) == 1 and files[0].name == "m.py" and len(files[0].parts) > 1500
    finally:  # shutil.rmtree (and pytest's clean-up of old temporary folders) recurses: undo it here
        try:
            os.chdir(tmp_path)
            depth = 0
            while os.path.isdir("a"):
                os.chdir("a")
                depth += 1
            for name in os.listdir("."):
                os.unlink(name)
            for _ in range(depth):
                os.chdir("..")
                os.rmdir("a")
        finally:
            os.chdir(cwd)


_LINES = st.lists(
    st.builds(
        lambda neg, glob, slash: ("!" if neg else "") + glob + ("/" if slash else ""),
        st.booleans(),
        st.sampled_from(["a", "b", "a.b", "*.b", "*a", "a*", "/a", "a/b", "a/*b", "**/b", "a/**", "a/**/b", "[ab].a", "?"]),
        st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None, database=None)
@given(_LINES, _PATHS, st.booleans())
def test_an_ignore_file_verdict_is_its_last_matching_pattern(lines: list[str], path: str, is_dir: bool) -> None:
    # the verdict looks plain names up by name; it must answer as the last matching pattern does
    ig = IgnoreFile.parse(Path("/base"), "\n".join(lines))
    expected = None
    for pat in ig.patterns:
        if pat.matches(path, is_dir):
            expected = not pat.negated
    assert ig.verdict("/base/" + path, is_dir) == expected, (lines, path, is_dir)
