"""Reading files safely: every failure is a reason, never an exception."""

from __future__ import annotations

import hashlib
import os

import pytest

from convlint.source.files import ReadError, SourceFile, read_source


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_utf8_file_gives_text_and_sha256_of_bytes(tmp_path):
    data = "# café\nx = 1\n".encode()
    r = read_source(write(tmp_path, "a.py", data))
    assert isinstance(r, SourceFile)
    assert r.text == "# café\nx = 1\n"
    assert r.sha256 == hashlib.sha256(data).hexdigest()


def test_utf8_bom_is_accepted_and_stripped(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"\xef\xbb\xbfx = 1\n"))
    assert isinstance(r, SourceFile)
    assert r.text == "x = 1\n"


def test_pep263_cookie_is_honoured(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\ns = '\xe9'\n"))
    assert isinstance(r, SourceFile)
    assert "s = 'é'" in r.text


def test_cookie_on_line_two_after_code_is_ignored(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"x = 1\n# coding: latin-1\ns = '\xe9'\n"))
    assert isinstance(r, ReadError)
    assert "UTF-8" in r.reason


def test_non_utf8_without_cookie_is_an_error_with_line(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"x = 1\ns = '\xe9'\n"))
    assert isinstance(r, ReadError)
    assert r.reason == "not valid UTF-8: cannot decode byte 0xe9 on line 2"


def test_unknown_cookie_encoding_is_an_error(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"# coding: klingon\nx = 1\n"))
    assert isinstance(r, ReadError)
    assert "unknown encoding 'klingon'" in r.reason


def test_binary_file_is_an_error(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"\x7fELF\x00\x01\x02"))
    assert isinstance(r, ReadError)
    assert r.reason == "binary file (NUL byte)"


def test_huge_file_is_refused_before_reading(tmp_path):
    p = write(tmp_path, "a.py", b"x = 1\n" * 100)
    r = read_source(p, max_size=100)
    assert isinstance(r, ReadError)
    assert r.reason.startswith("file too large: 600 bytes")
    assert isinstance(read_source(p, max_size=0), SourceFile)  # 0 = no limit


def test_missing_file_and_directory_are_errors(tmp_path):
    r = read_source(tmp_path / "nope.py")
    assert isinstance(r, ReadError) and r.reason == "cannot read: No such file or directory"
    r = read_source(tmp_path)
    assert isinstance(r, ReadError) and r.reason == "cannot read: Is a directory"


def test_permission_denied_is_an_error(tmp_path):
    p = write(tmp_path, "a.py", b"x = 1\n")
    os.chmod(p, 0)
    try:
        if os.access(p, os.R_OK):
            pytest.skip("running as a user that ignores permissions")
        r = read_source(p)
        assert isinstance(r, ReadError) and r.reason == "cannot read: Permission denied"
    finally:
        os.chmod(p, 0o644)


def test_crlf_line_endings_are_kept(tmp_path):
    r = read_source(write(tmp_path, "a.py", b"x = 1\r\ny = 2\r\n"))
    assert isinstance(r, SourceFile) and r.text == "x = 1\r\ny = 2\r\n"


# ----------------------------------------------------------------------------- only regular files

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


@needs_fifo
def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes: none will
    r = read_source(fifo)
    assert isinstance(r, ReadError) and r.reason == "cannot read: not a regular file (a FIFO)"
    link = tmp_path / "link.py"
    link.symlink_to(fifo)
    r = read_source(link)
    assert isinstance(r, ReadError) and r.reason == "cannot read: not a regular file (a symbolic link to a FIFO)"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_or_a_link_to_one_is_refused(tmp_path):
    r = read_source("/dev/zero")  # reading it would never end
    assert isinstance(r, ReadError) and r.reason == "cannot read: not a regular file (a character device)"
    link = tmp_path / "zero.py"
    link.symlink_to("/dev/zero")
    r = read_source(link, max_size=0)  # even without a size limit
    assert isinstance(r, ReadError) and "symbolic link to a character device" in r.reason


def test_read_regular_limits_what_it_reads(tmp_path):
    from convlint.source.files import FileTooLarge, NotRegularFile, read_regular

    p = write(tmp_path, "a.py", b"x" * 100)
    assert read_regular(p) == b"x" * 100
    with pytest.raises(FileTooLarge):
        read_regular(p, 99)
    with pytest.raises(NotRegularFile):
        read_regular(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing.py")
