"""Lazy parsing of imported modules (skeleton function bodies) and the parse store that keeps
indexes and parsed statements across runs."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import libcst as cst
import pytest

from convlint.cache import Cache, ParseStore, _PARSED_MAGIC
from convlint.cli import main
from convlint.config import load_config
from convlint.source.project import ParsedModule

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KEY = b"k" * 32

MODULE = '''\
"""doc"""
import torch.nn as nn


@decorate(1)
def helper(a, b=2):
    """Adds."""
    return a + b  # comment


class Block(nn.Module):
    size: int = 3

    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3)

    @property
    def width(self):
        return self.conv.out_channels

    def one_line(self): return 1


class Plain:
    def __init__(self, x):
        self.x = x


SCALE = 2


def scaled(x, k=SCALE):
    return x * k
'''


def _positions(tree):
    from libcst.metadata import MetadataWrapper, PositionProvider

    return MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)


def _names(node) -> dict[str, cst.CSTNode]:
    """Every ``Name`` node under ``node`` by (value, occurrence)."""
    from convlint.source.walk import walk

    out, seen = {}, {}
    for n in walk(node):
        if isinstance(n, cst.Name):
            k = seen[n.value] = seen.get(n.value, 0) + 1
            out[f"{n.value}#{k}"] = n
    return out


def test_skeletons_leave_out_bodies_and_literal_headers_and_full_definitions_map_back_to_the_file():
    pm = ParsedModule("m.py", "m", MODULE)
    whole = cst.parse_module(MODULE)
    whole_pos = _positions(whole)
    idx = pm.index
    helper_i = idx.names["helper"][-1]
    block_i = idx.names["Block"][-1]
    plain_i = idx.names["Plain"][-1]
    assert helper_i in idx.bodies and plain_i in idx.bodies
    assert block_i not in idx.bodies  # ``def one_line(self): return 1`` has no body of its own line
    helper = pm.statement(helper_i)
    assert isinstance(helper, cst.FunctionDef) and pm.is_skeleton(helper)
    # every default is a literal (``b=2``): the parameters are read from the full definition
    assert pm.header_elided(helper)
    assert cst.Module(body=[helper]).code.strip().endswith("def helper(*_, **__):\n    ...")
    full = pm.full_definition(helper)
    assert full is not helper and not pm.is_skeleton(full)
    assert cst.Module(body=[full]).code.strip() == cst.Module(body=[whole.body[helper_i]]).code.strip()
    # positions of nodes from the skeleton (decorators, the name), the full definition and a method map to the file
    twin = whole.body[helper_i]
    r = whole_pos[twin.name]
    assert pm.position(helper.name) == (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)
    for node, twin in ((helper.decorators[0], twin.decorators[0]), (full, twin)):
        for key, n in _names(node).items():
            w = _names(twin)[key]
            r = whole_pos[w]
            assert pm.position(n) == (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1), key
    plain = pm.statement(plain_i)
    init = plain.body.body[0]
    assert pm.is_skeleton(init)
    real = pm.full_definition(init)
    twin = whole.body[plain_i].body.body[0]
    for key, n in _names(real).items():
        r = whole_pos[_names(twin)[key]]
        assert pm.position(n) == (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1), key
    # the whole class statement is parsed as it is
    block = pm.statement(block_i)
    assert cst.Module(body=[block]).code.strip() == cst.Module(body=[whole.body[block_i]]).code.strip()
    # a default that is not a literal is evaluated where Python evaluates it: the header stays
    scaled = pm.statement(idx.names["scaled"][-1])
    assert pm.is_skeleton(scaled) and not pm.header_elided(scaled)
    assert "def scaled(x, k=SCALE):" in cst.Module(body=[scaled]).code


def test_a_function_whose_body_shares_its_header_line_is_not_elided():
    text = "def f(\n    a): return a\n\ndef g(): pass\n"
    pm = ParsedModule("m.py", "m", text)
    assert 1 not in pm.index.bodies  # ``g``: one line
    f = pm.statement(0)  # ``f``'s body starts on a line holding its header: parsed whole
    assert not pm.is_skeleton(f) and "return a" in cst.Module(body=[f]).code


def _check(repo: Path, *args: str) -> list[dict]:
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["check", "--format", "json", *args])
        return json.loads(out.getvalue())
    finally:
        os.chdir(cwd)


@pytest.fixture
def unet(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "unet", repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return repo


def _store_entries(repo: Path) -> list[Path]:
    return sorted((repo / ".convlint_cache").glob("*-parsed/*/*.bin"))


def test_findings_are_the_same_cold_stored_and_warm_and_the_store_is_used(unet):
    reference = _check(unet, "--no-cache", "model.py")
    assert {f["path"] for f in reference} == {"model.py", "parts.py"}  # a finding inside the imported module
    assert not (unet / ".convlint_cache").exists()
    assert _check(unet, "model.py") == reference  # cold: parses, then stores
    assert _store_entries(unet)
    with open(unet / "model.py", "a") as f:
        f.write("# edited\n")  # the result cache misses; parts.py comes from the store
    config = load_config(cwd=unet)
    store = ParseStore(Cache.for_config(config))
    sha = hashlib.sha256((unet / "parts.py").read_bytes()).hexdigest()
    assert store.get(sha) is not None
    assert _check(unet, "model.py") == reference


def _rewrite_entries(repo: Path, payload_of) -> None:
    config = load_config(cwd=repo)
    cache = Cache.for_config(config)
    assert cache.key_bytes is not None
    for entry in _store_entries(repo):
        key = entry.stem
        payload = payload_of(entry.read_bytes())
        entry.write_bytes(_PARSED_MAGIC + cache._mac(key, payload).encode() + b"\n" + payload)


def test_a_corrupted_store_entry_is_ignored(unet):
    reference = _check(unet, "--no-cache", "model.py")
    _check(unet, "model.py")
    for entry in _store_entries(unet):
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    with open(unet / "model.py", "a") as f:
        f.write("# edited\n")
    assert _check(unet, "model.py") == reference


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_hostile_entry_even_with_a_valid_mac_runs_nothing(unet, tmp_path):
    """An entry that verifies (written with the user's own key, say by a compromised tool) but
    whose pickle names a callable: the restricted unpickler refuses it; nothing runs."""
    reference = _check(unet, "--no-cache", "model.py")
    _check(unet, "model.py")
    marker = tmp_path / "pwned"

    def evil_payload(raw: bytes) -> bytes:
        body = raw[len(_PARSED_MAGIC):].partition(b"\n")[2]
        data = pickle.loads(body)
        data["segments"] = {k: pickle.dumps(("skeleton", _Evil(marker))) for k in data["segments"]}
        return pickle.dumps(data)

    def evil_index(raw: bytes) -> bytes:
        body = raw[len(_PARSED_MAGIC):].partition(b"\n")[2]
        data = pickle.loads(body)
        data["index"] = _Evil(marker)
        return pickle.dumps(data)

    _rewrite_entries(unet, evil_payload)  # the segments: refused one by one
    with open(unet / "model.py", "a") as f:
        f.write("# edited\n")
    assert _check(unet, "model.py") == reference
    assert not marker.exists()
    _rewrite_entries(unet, evil_index)  # the entry itself: refused whole
    with open(unet / "model.py", "a") as f:
        f.write("# edited\n")
    assert _check(unet, "model.py") == reference
    assert not marker.exists()


def test_an_entry_with_a_wrong_index_is_ignored(unet):
    reference = _check(unet, "--no-cache", "model.py")
    _check(unet, "model.py")

    def bad_index(raw: bytes) -> bytes:
        data = pickle.loads(raw[len(_PARSED_MAGIC):].partition(b"\n")[2])
        data["index"]["names"] = {"DoubleConv": [10_000]}
        return pickle.dumps(data)

    _rewrite_entries(unet, bad_index)
    with open(unet / "model.py", "a") as f:
        f.write("# edited\n")
    assert _check(unet, "model.py") == reference


def test_entries_from_another_key_are_ignored(unet):
    reference = _check(unet, "--no-cache", "model.py")
    _check(unet, "model.py")
    for entry in _store_entries(unet):
        raw = entry.read_bytes()
        body = raw[len(_PARSED_MAGIC):].partition(b"\n")[2]
        entry.write_bytes(_PARSED_MAGIC + b"0" * 64 + b"\n" + body)
    with open(unet / "model.py", "a") as f:
        f.write("# edited\n")
    assert _check(unet, "model.py") == reference


def test_no_cache_writes_no_store(unet):
    _check(unet, "--no-cache", "model.py")
    assert not (unet / ".convlint_cache").exists()
