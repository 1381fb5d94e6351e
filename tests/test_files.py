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
