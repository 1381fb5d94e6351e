"""A one-line progress display on stderr for long ``convlint check`` runs.

The pipeline only calls ``progress(done, total, current)``; this module decides what a person
sees. :func:`progress_for` returns ``None`` (no display) unless stderr is a terminal, the output
format is ``text`` and ``--quiet`` is off: machine formats (json, sarif, github), pipes, files and
CI logs never get it.

The line appears once a run has taken :data:`DEFAULT_DELAY` seconds (``CONVLINT_PROGRESS_DELAY``
overrides it; ``0`` shows it at once, which the tests use instead of waiting), is rewritten in
place with ``\\r`` and erased (spaces, then ``\\r``) when the run ends, so the report that follows
starts on a clean line. It reads ``convlint: 37/156 files``; while one file has been analysed for
longer than the delay, its path and time are added: ``convlint: 37/156 files, models/unet.py
(12 s)``. A background thread redraws it twice a second so that the time of a slow file goes on
counting. No ANSI escapes are used.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from typing import IO, Callable

__all__ = ["DEFAULT_DELAY", "ProgressLine", "progress_for"]

DEFAULT_DELAY = 1.0  # seconds of silence before the line appears
_TICK = 0.5  # seconds between redraws while a file is being analysed


def _delay_from_env() -> float:
    raw = os.environ.get("CONVLINT_PROGRESS_DELAY", "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_DELAY
    return value if value >= 0 else DEFAULT_DELAY


def progress_for(stream: IO[str], *, fmt: str, quiet: bool) -> "ProgressLine | None":
    """A progress line on ``stream`` if a person is watching it, else ``None``."""
    if fmt != "text" or quiet:
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError, OSError):
        return None
    return ProgressLine(stream, delay=_delay_from_env())


class ProgressLine:
    """Call it as ``progress(done, total, current)``; :meth:`close` erases the line."""

    def __init__(self, stream: IO[str], delay: float = DEFAULT_DELAY, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.total = 0
        self.current: str | None = None
        self.current_since = self.start
        self.shown = 0  # length of the line on screen
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # ------------------------------------------------------------------ the callback

    def __call__(self, done: int, total: int, current: str | None) -> None:
        with self._lock:
            now = self.clock()
            if current != self.current:
                self.current_since = now
            self.done, self.total, self.current = done, total, current
            self._draw(now)
        if self._ticker is None and done < total:
            self._ticker = threading.Thread(target=self._tick, name="convlint-progress", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stop.wait(_TICK):
            with self._lock:
                if self._stop.is_set():
                    return
                self._draw(self.clock())

    # ------------------------------------------------------------------ drawing

    def text(self, now: float, width: int = 1000) -> str:
        """The line, at most ``width`` characters (a long path loses its beginning)."""
        line = f"convlint: {self.done}/{self.total} files"
        if self.current is not None and now - self.current_since >= self.delay:
            tail = f" ({now - self.current_since:.0f} s)"
            room = width - len(line) - 2 - len(tail)
            path = self.current
            if len(path) > room:
                path = "..." + path[len(path) - max(room - 3, 0):] if room > 10 else ""
            if path:
                line += f", {path}{tail}"
        return line[:width]

    def _draw(self, now: float) -> None:
        if now - self.start < self.delay or self.total == 0:
            return
        width = max(20, self._columns() - 1)
        line = self.text(now, width)
        pad = " " * max(0, self.shown - len(line))
        self._write("\r" + line + pad)
        self.shown = len(line)

    def _columns(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, ValueError, OSError):
            return shutil.get_terminal_size((80, 24)).columns

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError, UnicodeEncodeError):
            pass

    def close(self) -> None:
        """Stop redrawing and erase the line (if it was ever shown)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self.shown:
                self._write("\r" + " " * self.shown + "\r")
                self.shown = 0
