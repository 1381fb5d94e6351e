"""Read a source file safely: its text and content hash, or a clear reason why not.

No exception escapes :func:`read_source`; every failure becomes a :class:`ReadError` whose
``reason`` is a short human sentence (``cannot read: Permission denied``, ``binary file (NUL
byte)``, ``not UTF-8: ...``, ``file too large: ...``) that the runner reports as CVL000.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "NotRegularFile",
    "SourceFile",
    "ReadError",
    "FileTooLarge",
    "read_regular",
    "read_source",
    "decode_source",
    "sha256_bytes",
    "MAX_DEPENDENCY_SIZE",
    "dependency_hash",
    "python_lines",
]

DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024  # bytes

# PEP 263: a coding cookie in a comment on line 1 or 2.
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")


@dataclass(frozen=True)
class SourceFile:
    """A file read successfully: its raw bytes and decoded text (line endings as in the file).

    ``sha256`` (of the bytes) is computed on first use: files the prefilter drops never pay for it.
    """

    path: Path
    text: str
    data: bytes = field(repr=False)

    @cached_property
    def sha256(self) -> str:
        return sha256_bytes(self.data)


@dataclass(frozen=True)
class ReadError:
    """A file that could not be read as Python source, with the reason in one line."""

    path: Path
    reason: str


def python_lines(text: str) -> str:
    """``text`` with every line break Python's tokenizer knows (CRLF, a lone CR, LF) made ``\\n``.

    Line numbers counted in the result agree with ``ast``/LibCST positions; columns are unchanged.
    The file itself is never rewritten with it (fixes keep the file's own line endings).
    """
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


MAX_DEPENDENCY_SIZE = 64 * 1024 * 1024  # bytes: a bigger file is not hashed as a dependency (a miss)


def dependency_hash(path: str | os.PathLike[str]) -> str | None:
    """sha256 of a file's bytes as the result cache records and compares a dependency (a regular
    file of at most :data:`MAX_DEPENDENCY_SIZE` bytes); None when it cannot be read."""
    try:
        return sha256_bytes(read_regular(path, MAX_DEPENDENCY_SIZE))
    except (OSError, ValueError):
        return None


def _coding(data: bytes) -> str:
    """The encoding a PEP 263 cookie declares on line 1 or 2, else ``utf-8``."""
    lines = data.split(b"\n", 2)[:2]
    for i, line in enumerate(lines):
        m = _COOKIE.match(line)
        if m:
            return m.group(1).decode("ascii", "replace")
        if i == 0 and not _BLANK_OR_COMMENT.match(line):
            break  # the cookie may be on line 2 only if line 1 is a comment or blank
    return "utf-8"


def decode_source(data: bytes) -> str:
    """Decode Python source bytes as the interpreter would (BOM, PEP 263 cookie, else UTF-8).

    Raises ``ValueError`` with a readable message when the bytes cannot be decoded.
    """
    if b"\x00" in data:
        raise ValueError("binary file (NUL byte)")
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        enc = _coding(body)
        if not _known(enc) or codecs.lookup(enc).name != "utf-8":
            raise ValueError(f"UTF-8 byte order mark conflicts with coding cookie {enc!r}")
        encoding, data = "utf-8", body
    else:
        encoding = _coding(data)
        if not _known(encoding):
            raise ValueError(f"unknown encoding {encoding!r} in coding cookie")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding
        line = data[: exc.start].count(b"\n") + 1
        raise ValueError(f"not valid {name}: cannot decode byte 0x{data[exc.start]:02x} on line {line}") from None
    return text


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a directory (or a link to one): never read."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))
        self.kind = kind


class FileTooLarge(OSError):
    """The file holds more than the bytes allowed."""

    def __init__(self, path: str | os.PathLike[str], size: int | None, limit: int) -> None:
        what = f"{size} bytes" if size is not None else f"over {limit} bytes"
        super().__init__(errno.EFBIG, f"file too large: {what}", os.fspath(path))
        self.size = size
        self.limit = limit


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def read_regular(path: str | os.PathLike[str], max_size: int = 0) -> bytes:
    """The bytes of ``path`` if it is a regular file (following links); raises ``OSError``.

    A FIFO, a device, a socket or a directory — or a link to one — is refused with
    :class:`NotRegularFile` before it is opened (``os.stat``), and the opened descriptor is
    checked again (``fstat``; opened with ``O_NONBLOCK``, so a FIFO swapped in between cannot
    block). ``max_size`` > 0 refuses bigger files with :class:`FileTooLarge`, reading at most
    ``max_size + 1`` bytes.
    """
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path, _kind(st.st_mode))
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, _kind(st.st_mode))
        if max_size > 0 and st.st_size > max_size:
            raise FileTooLarge(path, st.st_size, max_size)
        chunks = []
        total = 0
        while True:
            want = 1 << 20
            if max_size > 0:
                want = min(want, max_size + 1 - total)
            chunk = os.read(fd, want) if want > 0 else b""
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if max_size > 0 and total > max_size:  # grew between fstat and read
                raise FileTooLarge(path, None, max_size)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_source(path: str | os.PathLike[str], max_size: int = DEFAULT_MAX_FILE_SIZE) -> SourceFile | ReadError:
    """Read ``path`` as Python source; never raises.

    ``max_size`` is in bytes; ``0`` or a negative value means no limit. Only regular files are
    read (see :func:`read_regular`): anything else is a :class:`ReadError` naming what it is.
    """
    p = path if isinstance(path, Path) else Path(path)
    try:
        data = read_regular(p, max_size if max_size > 0 else 0)
    except NotRegularFile as exc:
        link = "a symbolic link to " if os.path.islink(p) else ""
        if exc.kind == "a directory" and not link:
            return ReadError(p, "cannot read: Is a directory")
        return ReadError(p, f"cannot read: not a regular file ({link}{exc.kind})")
    except FileTooLarge as exc:
        if exc.size is not None:
            return ReadError(p, f"file too large: {exc.size} bytes (max-file-size is {max_size})")
        return ReadError(p, f"file too large: over {max_size} bytes (max-file-size)")
    except OSError as exc:
        return ReadError(p, f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # pragma: no cover - defensive (e.g. odd path types)
        return ReadError(p, f"cannot read: {exc}")
    try:
        text = decode_source(data)
    except ValueError as exc:
        return ReadError(p, str(exc))
    except Exception as exc:  # pragma: no cover - defensive
        return ReadError(p, f"cannot decode: {exc}")
    return SourceFile(p, text, data)
