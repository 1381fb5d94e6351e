"""The progress line of long checks: on a terminal's stderr only, rewritten with \\r, erased at the end.

The one-second delay before it appears is set to 0 through ``CONVLINT_PROGRESS_DELAY`` so that no
test waits or measures time; the terminal is a pseudo-terminal (the ``pty`` module).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from convlint.commands.progress import ProgressLine, progress_for

MODEL = """\
import torch.nn as nn


class Net{i}(nn.Module):  # convlint: input=(1, 3, 32, 32)
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)
"""


@pytest.fixture
def models(tmp_path: Path) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    for i in range(3):
        (d / f"net{i}.py").write_text(MODEL.format(i=i))
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CONVLINT_DEBUG", "CONVLINT_PROGRESS_DELAY")}
    env.update(extra)
    return env


def run_with_tty_stderr(cwd: Path, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run convlint with stderr on a pseudo-terminal and stdout on a pipe; (status, stdout, terminal)."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "convlint", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
        )
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode() if proc.stdout else ""
    status = proc.wait(timeout=300)
    os.close(master)
    return status, out, b"".join(chunks).decode(errors="replace")


def test_progress_line_on_a_terminal_is_rewritten_and_erased(models: Path) -> None:
    status, out, tty = run_with_tty_stderr(models, "check", "models", "--no-cache", env=_env(CONVLINT_PROGRESS_DELAY="0"))
    assert status == 0, out + tty
    assert "convlint: 0/3 files" in tty and "convlint: 3/3 files" in tty
    assert "models/net0.py (" in tty, "the file being analysed is named once it takes longer than the delay"
    assert "\r" in tty and "\n" not in tty.replace("\r\n", ""), "one line, rewritten in place"
    last = tty.rsplit("\r", 2)
    assert tty.endswith("\r") and last[-2].strip() == "", "the line is erased at the end"
    assert out == "All checks passed!\n", "stdout has the report only"


@pytest.mark.parametrize("extra", [["--quiet"], ["--format", "json"], ["--format", "sarif"], ["--format", "github"]])
def test_no_progress_when_quiet_or_in_machine_formats(models: Path, extra: list[str]) -> None:
    status, out, tty = run_with_tty_stderr(models, "check", "models", "--no-cache", *extra, env=_env(CONVLINT_PROGRESS_DELAY="0"))
    assert status == 0, out + tty
    assert "files" not in tty and "\r" not in tty


def test_no_progress_when_stderr_is_a_pipe(models: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "convlint", "check", "models", "--no-cache"],
        cwd=models, env=_env(CONVLINT_PROGRESS_DELAY="0"), capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr == "" and p.stdout == "All checks passed!\n"


def test_no_progress_before_the_delay(models: Path) -> None:
    # the default delay (a second) is far longer than checking three small files... usually; an
    # explicit large delay makes it certain without measuring anything
    status, out, tty = run_with_tty_stderr(models, "check", "models", "--no-cache", env=_env(CONVLINT_PROGRESS_DELAY="3600"))
    assert status == 0 and tty == ""


# ---------------------------------------------------------------- the line itself, with a fake clock


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_line_appears_after_the_delay_names_the_slow_file_and_is_cleared() -> None:
    stream, clock = FakeTTY(), Clock()
    p = ProgressLine(stream, delay=1.0, clock=clock)
    p._ticker = object()  # no background thread in this test  # type: ignore[assignment]
    p(0, 156, "models/a.py")
    assert stream.getvalue() == "", "nothing during the first second"
    clock.t += 0.5
    p(1, 156, "models/b.py")
    assert stream.getvalue() == ""
    clock.t += 0.6
    p(2, 156, "models/unet.py")
    assert stream.getvalue() == "\rconvlint: 2/156 files"
    clock.t += 12
    p._draw(clock())
    assert stream.getvalue().endswith("\rconvlint: 2/156 files, models/unet.py (12 s)")
    p(3, 156, "models/c.py")  # a shorter line overwrites the longer one completely
    tail = stream.getvalue().rsplit("\r", 1)[1]
    assert tail.startswith("convlint: 3/156 files") and len(tail) == len("convlint: 2/156 files, models/unet.py (12 s)")
    p._ticker = None
    p.close()
    assert stream.getvalue().endswith("\r" + " " * len(tail.rstrip()) + "\r"), "the characters on screen are blanked"


def test_long_paths_lose_their_beginning_to_fit_the_width() -> None:
    p = ProgressLine(FakeTTY(), delay=0.0, clock=Clock())
    p.done, p.total, p.current, p.current_since = 1, 2, "a/" * 100 + "model.py", 90.0
    line = p.text(100.0, width=60)
    assert len(line) <= 60 and line.startswith("convlint: 1/2 files, ...") and line.endswith("model.py (10 s)")


def test_close_without_output_writes_nothing() -> None:
    stream = FakeTTY()
    p = ProgressLine(stream, delay=1.0, clock=Clock())
    p(0, 3, "a.py")
    p.close()
    assert stream.getvalue() == ""


def test_progress_for_decides_by_format_quiet_and_terminal() -> None:
    assert progress_for(FakeTTY(), fmt="text", quiet=False) is not None
    assert progress_for(FakeTTY(), fmt="json", quiet=False) is None
    assert progress_for(FakeTTY(), fmt="text", quiet=True) is None
    assert progress_for(io.StringIO(), fmt="text", quiet=False) is None


def test_run_check_reports_progress_through_its_callback(models: Path) -> None:
    from convlint.config import Config
    from convlint.pipeline import run_check

    calls: list[tuple[int, int, str | None]] = []
    run_check(["models"], Config.default(models), use_cache=False, cwd=models, progress=lambda d, t, c: calls.append((d, t, c)))
    assert calls == [(0, 3, "models/net0.py"), (1, 3, "models/net1.py"), (2, 3, "models/net2.py"), (3, 3, None)]
