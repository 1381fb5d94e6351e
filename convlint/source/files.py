"""Read a source file safely: its text and content hash, or a clear reason why not.

No exception escapes :func:`read_source`; every failure becomes a :class:`ReadError` whose
``reason`` is a short human sentence (``cannot read: Permission denied``, ``binary file (NUL
byte)``, ``not UTF-8: ...``, ``file too large: ...``) that the runner reports as CVL000.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

__all__ = ["DEFAULT_MAX_FILE_SIZE", "SourceFile", "ReadError", "read_source", "decode_source", "sha256_bytes"]

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


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


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


def read_source(path: str | os.PathLike[str], max_size: int = DEFAULT_MAX_FILE_SIZE) -> SourceFile | ReadError:
    """Read ``path`` as Python source; never raises.

    ``max_size`` is in bytes; ``0`` or a negative value means no limit.
    """
    p = path if isinstance(path, Path) else Path(path)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if max_size > 0 and size > max_size:
                return ReadError(p, f"file too large: {size} bytes (max-file-size is {max_size})")
            data = fh.read()  # read(n) would allocate n bytes up front
    except IsADirectoryError:
        return ReadError(p, "cannot read: Is a directory")
    except OSError as exc:
        return ReadError(p, f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # pragma: no cover - defensive (e.g. odd path types)
        return ReadError(p, f"cannot read: {exc}")
    if max_size > 0 and len(data) > max_size:  # grew between fstat and read
        return ReadError(p, f"file too large: over {max_size} bytes (max-file-size)")
    try:
        text = decode_source(data)
    except ValueError as exc:
        return ReadError(p, str(exc))
    except Exception as exc:  # pragma: no cover - defensive
        return ReadError(p, f"cannot decode: {exc}")
    return SourceFile(p, text, data)
