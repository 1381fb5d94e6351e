"""Typos are reported: nothing checked is not "All checks passed!".

An ``exclude`` that matches everything, an empty ``--select``, ``--config /``, an unreadable folder
or ``pyproject.toml``, and a ``# noqa`` with a wrong code each get a message that names them. With
``--force-exclude`` (the pre-commit hook) excluded files are what was asked for: exit 0, as ruff.

Run in-process through :func:`convlint.cli.main` (the real engine, small files).
"""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import pytest

from convlint.cli import main

BAD = """\
import torch.nn as nn


class AE(nn.Module):  # convlint: input=(8, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 16, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(
            16, 1, 3,
            stride=2, padding=1,
        ){comment}

    def forward(self, x):
        return self.up(self.down(x))
"""

GOOD = "import torch.nn as nn\n\nconv = nn.Conv2d(3, 8, 3)  # noqa: E501\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "good.py").write_text(GOOD)
    (tmp_path / "src" / "other.py").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    for var in ("CONVLINT_PROGRESS_DELAY", "CONVLINT_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", "--no-cache", *args])
    cap = capsys.readouterr()
    return status, cap.out, cap.err


def config(root: Path, body: str) -> None:
    (root / "pyproject.toml").write_text("[tool.convlint]\n" + body)


# ---------------------------------------------------------------- excluded paths


@pytest.mark.parametrize("args", [[], ["src"], ["."]])
def test_exclude_matching_everything_is_an_error_naming_the_setting(project, capsys, args):
    config(project, 'exclude = ["*"]\n')
    status, out, err = check(capsys, *args)
    assert status == 2
    where = args[0] if args else "."
    assert err == f'convlint: error: 0 files checked under {where}: every Python file is excluded by exclude = ["*"] in pyproject.toml\n'
    assert "All checks passed" not in out


def test_extend_exclude_is_named_when_it_is_the_one(project, capsys):
    config(project, 'exclude = ["third_party/"]\nextend-exclude = ["src/"]\n')
    status, _, err = check(capsys)
    assert status == 2 and err.endswith('is excluded by extend-exclude = ["src/"] in pyproject.toml\n')


def test_gitignore_that_ignores_everything_is_named(project, capsys):
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("*.py\n")
    status, _, err = check(capsys)
    assert status == 2 and "every Python file is ignored by .gitignore" in err and "respect-gitignore = false" in err


def test_exclude_and_gitignore_together_are_both_named(project, capsys):
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("lib/\n")
    (project / "lib").mkdir()
    (project / "lib" / "m.py").write_text(GOOD)
    config(project, 'exclude = ["src/"]\n')
    status, _, err = check(capsys)
    assert status == 2
    assert err == 'convlint: error: 0 files checked under .: every Python file is excluded by exclude = ["src/"] in pyproject.toml or ignored by .gitignore\n'


def test_a_folder_partly_excluded_is_fine(project, capsys):
    config(project, 'exclude = ["other.py"]\n')
    status, out, err = check(capsys, "src")
    assert (status, out, err) == (0, "All checks passed!\n", "")


def test_a_folder_without_python_files_is_a_warning(project, capsys):
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# docs\n")
    status, out, err = check(capsys, "docs")
    assert status == 0
    assert err == "convlint: warning: 0 files checked under docs: there are no Python files (*.py, *.pyi)\n"
    assert out == "", "no 'All checks passed!' when nothing was checked"
    status, out, err = check(capsys, "docs", "src")
    assert status == 0 and "docs" in err and out == "All checks passed!\n"


def test_force_exclude_with_every_file_excluded_exits_0_as_ruff_does(project, capsys):
    # pre-commit passes staged files whatever the excludes say: excluding them is what was asked
    config(project, 'exclude = ["src/"]\n')
    status, out, err = check(capsys, "--force-exclude", "src/good.py")
    assert status == 0 and out == ""
    assert err == 'convlint: warning: 0 files checked: src/good.py is excluded by exclude = ["src/"] in pyproject.toml\n'
    status, _, err = check(capsys, "--force-exclude", "src/good.py", "src/other.py")
    assert status == 0 and "all 2 paths given are excluded" in err


def test_force_exclude_with_some_files_excluded_says_nothing(project, capsys):
    config(project, 'exclude = ["other.py"]\n')
    status, out, err = check(capsys, "--force-exclude", "src/good.py", "src/other.py")
    assert (status, out, err) == (0, "All checks passed!\n", "")


def test_without_force_exclude_a_named_file_is_checked_even_if_excluded(project, capsys):
    config(project, 'exclude = ["*"]\n')
    status, out, err = check(capsys, "src/good.py")
    assert (status, out, err) == (0, "All checks passed!\n", "")


# ---------------------------------------------------------------- empty selection


@pytest.mark.parametrize(
    "args, named",
    [
        (["--select", ""], "--select ''"),
        (["--select", ","], "--select ,"),
        (["--ignore", "ALL"], "--ignore ALL"),
        (["--select", "CVL004", "--ignore", "CVL004"], "--select CVL004 --ignore CVL004"),
    ],
)
def test_no_rule_selected_on_the_command_line_is_an_error(project, capsys, args, named):
    status, out, err = check(capsys, *args)
    assert status == 2 and out == ""
    assert err == f"convlint: error: no rule is selected: {named} (0 rules, nothing to check)\n"


def test_no_rule_selected_in_the_configuration_is_an_error(project, capsys):
    config(project, "select = []\n")
    status, _, err = check(capsys)
    assert status == 2 and err == "convlint: error: no rule is selected: select = [] in pyproject.toml (0 rules, nothing to check)\n"
    status, out, _ = check(capsys, "--extend-select", "CVL004")
    assert status == 0 and out == "All checks passed!\n", "the command line can select rules again"


# ---------------------------------------------------------------- --config and unreadable files


def test_config_naming_a_directory_says_so(project, capsys):
    status, _, err = check(capsys, "--config", "/")
    assert status == 2 and err == "convlint: error: --config: / is a directory, not a configuration file (give a pyproject.toml or a convlint.toml)\n"
    config(project, 'exclude = ["x"]\n')
    status, _, err = check(capsys, "--config", ".")
    assert status == 2 and "did you mean --config pyproject.toml?" in err
    status, _, err = check(capsys, "--config", "missing.toml")
    assert status == 2 and "no such file: missing.toml" in err


def _deny(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """Make ``denied`` unreadable for this process (we may be root, for whom chmod is no obstacle)."""
    real_open, real_scandir, real_os_open = builtins.open, os.scandir, os.open
    target = os.fspath(denied)

    def fake_os_open(file, *a, **k):
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(os.fspath(file)) == target:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_os_open(file, *a, **k)

    def fake_open(file, *a, **k):
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(os.fspath(file)) == target:
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *a, **k)

    def fake_scandir(path="."):
        if os.path.abspath(os.fspath(path)) == target:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "scandir", fake_scandir)


def test_unreadable_pyproject_is_a_warning_naming_it(project, capsys, monkeypatch):
    config(project, 'exclude = ["*"]\n')
    _deny(monkeypatch, project / "pyproject.toml")
    status, out, err = check(capsys, "src")
    assert status == 0 and out == "All checks passed!\n"
    assert err == f"convlint: warning: cannot read {project / 'pyproject.toml'}: permission denied; its settings are not used\n"


def test_unreadable_folder_is_a_warning_naming_it(project, capsys, monkeypatch):
    (project / "src" / "secret").mkdir()
    (project / "src" / "secret" / "m.py").write_text(GOOD)
    _deny(monkeypatch, project / "src" / "secret")
    status, out, err = check(capsys)
    assert status == 0 and out == "All checks passed!\n"
    assert err == "convlint: warning: cannot read folder src/secret: permission denied; its files are not checked\n"


def test_unreadable_folder_named_on_the_command_line(project, capsys, monkeypatch):
    _deny(monkeypatch, project / "src")
    status, _, err = check(capsys, "src")
    assert "cannot read folder src: permission denied" in err
    assert status == 0, "no Python file could be seen there: a warning, like an empty folder"


def test_unreadable_folder_that_is_ignored_anyway_is_not_reported(project, capsys, monkeypatch):
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("data/\n")
    (project / "data").mkdir()
    _deny(monkeypatch, project / "data")
    status, out, err = check(capsys)
    assert (status, out, err) == (0, "All checks passed!\n", "")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any folder whatever its mode")
def test_unreadable_folder_for_real(project, capsys):
    d = project / "src" / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        status, _, err = check(capsys)
    finally:
        d.chmod(0o755)
    assert status == 0 and "cannot read folder src/locked" in err


# ---------------------------------------------------------------- suppression comments, end to end


def test_noqa_on_the_closing_line_of_a_multi_line_call_suppresses_its_finding(project, capsys):
    (project / "ae.py").write_text(BAD.format(comment=""))
    status, out, _ = check(capsys, "ae.py", "--no-show-source")
    assert status == 1 and "ae.py:8:19: CVL004" in out
    (project / "ae.py").write_text(BAD.format(comment="  # noqa: CVL004"))
    status, out, err = check(capsys, "ae.py")
    assert (status, out, err) == (0, "All checks passed!\n", "")


def test_noqa_with_a_typo_is_warned_about_and_suppresses_nothing(project, capsys):
    (project / "ae.py").write_text(BAD.format(comment="  # noqa: CVL04"))
    (project / "src" / "good.py").write_text(GOOD.replace("E501", "E501, CVL0004"))
    status, out, err = check(capsys, ".", "--no-show-source")
    assert status == 1 and "ae.py:8:19: CVL004" in out
    from convlint.rules import all_rules

    last = max(all_rules())  # the registry's codes: a new rule changes the range
    assert err.splitlines() == [
        f"convlint: warning: ae.py:11: unknown rule code 'CVL04' in '# noqa: CVL04' (did you mean CVL004?); it suppresses nothing (convlint's codes are CVL000..{last})",
        f"convlint: warning: src/good.py:3: unknown rule code 'CVL0004' in '# noqa: E501, CVL0004' (did you mean CVL004?); it suppresses nothing (convlint's codes are CVL000..{last})",
    ], "a file without findings is checked for typos too"


def test_bad_convlint_ignore_in_a_file_without_findings_is_reported(project, capsys):
    (project / "src" / "good.py").write_text(GOOD.replace("# noqa: E501", "# convlint: ignore[CVL04]"))
    status, out, _ = check(capsys, "--no-show-source")
    assert status == 1
    assert "src/good.py:3:28: CVL000 bad suppression comment: 'CVL04' is not a rule code (did you mean CVL004?)" in out
