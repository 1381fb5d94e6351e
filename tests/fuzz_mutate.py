"""Seeded mutations of source files, for tests/test_fuzz.py (not a test module itself).

Every mutation is a pure function of (the seed file's bytes, an integer seed): a failing case is
reproduced by its number alone (``mutate(data, seed)``), on any machine.
"""

from __future__ import annotations

import random
import re
from typing import Callable

_TOKEN = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")
_NUMBER = re.compile(rb"(?<![\w.])\d+(?![\w.])")


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def truncate(data: bytes, r: random.Random) -> bytes:
    return data[: r.randrange(len(data) + 1)]


def delete_lines(data: bytes, r: random.Random) -> bytes:
    lines = _lines(data)
    for _ in range(r.randint(1, 3)):
        if lines:
            del lines[r.randrange(len(lines))]
    return b"".join(lines)


def duplicate_lines(data: bytes, r: random.Random) -> bytes:
    lines = _lines(data)
    i = r.randrange(len(lines))
    j = min(len(lines), i + r.randint(1, 4))
    return b"".join(lines[:j] + lines[i:j] + lines[j:])


def swap_tokens(data: bytes, r: random.Random) -> bytes:
    toks = list(_TOKEN.finditer(data))
    if len(toks) < 2:
        return data
    a, b = sorted(r.sample(range(len(toks)), 2))
    ta, tb = toks[a], toks[b]
    return data[: ta.start()] + tb.group() + data[ta.end() : tb.start()] + ta.group() + data[tb.end() :]


def delete_token(data: bytes, r: random.Random) -> bytes:
    toks = list(_TOKEN.finditer(data))
    if not toks:
        return data
    t = toks[r.randrange(len(toks))]
    return data[: t.start()] + data[t.end() :]


def random_bytes(data: bytes, r: random.Random) -> bytes:
    pos = r.randrange(len(data) + 1)
    junk = bytes(r.randrange(256) for _ in range(r.randint(1, 8)))
    return data[:pos] + junk + data[pos:]


def nul(data: bytes, r: random.Random) -> bytes:
    pos = r.randrange(len(data) + 1)
    return data[:pos] + b"\x00" + data[pos:]


def line_endings(data: bytes, r: random.Random) -> bytes:
    out = []
    for line in _lines(data):
        body = line.rstrip(b"\r\n")
        if len(body) < len(line):
            line = body + r.choice([b"\n", b"\r\n", b"\r", b"\n", b"\r\n"])
        out.append(line)
    text = b"".join(out)
    return (b"\xef\xbb\xbf" + text) if r.random() < 0.5 else text


def not_utf8(data: bytes, r: random.Random) -> bytes:
    pos = r.randrange(len(data) + 1)
    bad = r.choice([b"\xff", b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"])
    cookie = b"# -*- coding: latin-1 -*-\n" if r.random() < 0.3 else b""
    return cookie + data[:pos] + bad + data[pos:]


def control_chars(data: bytes, r: random.Random) -> bytes:
    pos = r.randrange(len(data) + 1)
    junk = r.choice([b"\x1b[31m", b"\x0c", b"\x0b", b"\x1c", b"\xc2\x85", b"\xe2\x80\xae", b"\xe2\x80\xa8", b"\t"])
    return data[:pos] + junk + data[pos:]


def tabs(data: bytes, r: random.Random) -> bytes:
    lines = _lines(data)
    for _ in range(r.randint(1, 5)):
        i = r.randrange(len(lines))
        lines[i] = lines[i].replace(b"    ", b"\t", 1)
    return b"".join(lines)


def numbers(data: bytes, r: random.Random) -> bytes:
    """Replace integer literals with edge values: what the engine's arithmetic must survive."""
    nums = list(_NUMBER.finditer(data))
    if not nums:
        return data
    out = data
    for m in sorted(r.sample(nums, min(len(nums), r.randint(1, 3))), key=lambda m: -m.start()):
        value = r.choice([b"0", b"1", b"-1", b"2", b"10**30", b"2**63", b"-(2**63)", b"0.5", b"True", b"None", b"()", b"'x'", b"1e308"])
        out = out[: m.start()] + value + out[m.end() :]
    return out


def pragma(data: bytes, r: random.Random) -> bytes:
    """A declared input of odd shapes on a class line."""
    shapes = [b"()", b"(1,)", b"(0, 0, 0, 0)", b"(-1, 3, 8, 8)", b"(B, C, H, W)", b"(1, 3, 10**9, 10**9)",
              b"(1, 3, 99999999999999999999, 8)", b"((1, 2), 3)", b"(" + b"(" * 300 + b")" * 300 + b")",
              b"(" + b"1, (" * 150 + b"1" + b")" * 150 + b")", b"(1, 3, 64", b"x=(1, 3, 64, 64) y=((", b"(1, 3, 64, 64) init(a=" + b"[" * 200 + b"]" * 200 + b")"]
    lines = _lines(data)
    targets = [i for i, line in enumerate(lines) if line.lstrip().startswith((b"class ", b"def "))]
    i = r.choice(targets) if targets else 0
    line = lines[i].rstrip(b"\r\n")
    lines[i] = line + b"  # convlint: input=" + r.choice(shapes) + b"\n"
    return b"".join(lines)


def deep_nesting(data: bytes, r: random.Random) -> bytes:
    n = r.choice([150, 199, 200, 201, 500, 2000, 5000])
    o, c = r.choice([(b"(", b")"), (b"[", b"]"), (b"f(", b")"), (b"{1: ", b"}"), (b"(1, ", b")")])
    return data + b"\nx = " + o * n + b"1" + c * n + b"\n"


def long_chain(data: bytes, r: random.Random) -> bytes:
    n = r.choice([199, 200, 500, 2000, 20_000])
    kind = r.choice([b" + 1", b".b", b" and a", b"()", b"[0]"])
    head = b"a" if kind in (b".b", b"()", b"[0]") else b"1"
    return data + b"\nx = " + head + kind * n + b"\n"


def deep_unary(data: bytes, r: random.Random) -> bytes:
    n = r.choice([199, 201, 1000, 5000])
    op = r.choice([b"lambda: ", b"not ", b"-", b"a if b else "])
    return data + b"\nx = " + op * n + b"1\n"


def huge_literal(data: bytes, r: random.Random) -> bytes:
    n = r.choice([10_000, 60_000, 100_000, 400_000])
    return data + b"\nx = [" + b", ".join([b"1"] * n) + b"]\n"


def elif_chain(data: bytes, r: random.Random) -> bytes:
    n = r.choice([400, 600, 10_000])
    return data + b"\nif a:\n    pass\n" + b"elif a:\n    pass\n" * n


def deep_pattern(data: bytes, r: random.Random) -> bytes:
    n = r.choice([4, 8, 9, 12, 30])
    o, c = r.choice([(b"{1: ", b"}"), (b"(", b")"), (b"(", b",)"), (b"[", b"]"), (b"A(", b")"), (b"{1: [", b"]}")])
    return data + b"\nmatch x:\n    case " + o * n + b"1" + c * n + b":\n        pass\n"


CHEAP: list[Callable[[bytes, random.Random], bytes]] = [
    truncate, delete_lines, duplicate_lines, swap_tokens, delete_token, random_bytes, nul,
    line_endings, not_utf8, control_chars, tabs, numbers, pragma,
]
HEAVY: list[Callable[[bytes, random.Random], bytes]] = [deep_nesting, long_chain, deep_unary, huge_literal, elif_chain, deep_pattern]


def mutate(data: bytes, seed: int, mutators: list[Callable[[bytes, random.Random], bytes]] = CHEAP) -> tuple[str, bytes]:
    """(the names of the mutations applied, the mutated bytes) for ``seed``: one to three mutations."""
    r = random.Random(seed)
    names = []
    for _ in range(r.choice([1, 1, 1, 2, 3])):
        m = r.choice(mutators)
        names.append(m.__name__)
        data = m(data, r)
    return "+".join(names), data
