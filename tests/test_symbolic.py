"""Symbolic sizes: the canonical form never changes a value, prints as Python source for the same
function, and makes expressions the rules prove equal the same object (== and hash).

Property tests build random expressions with + - * // % and small constants, side by side with a
plain Python function of n (the oracle), and compare on many n. ``CONVLINT_SWEEP=1`` runs many more.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convlint.interpret.symbolic import (
    Sym,
    always_below_one,
    always_differ,
    canonical,
    differ_example,
    in_normal_form,
    is_size,
    max_of,
    sizes_for,
)

SWEEP = os.environ.get("CONVLINT_SWEEP") == "1"
COUNTS: dict = {}
H = Sym.var("H")
W = Sym.var("W")
NS = list(range(-20, 0)) + list(range(1, 130)) + [255, 256, 257, 511, 512, 513, 1023, 1024, 4097]


def examples(n: int, sweep: int = 5000):
    return settings(max_examples=sweep if SWEEP else n, deadline=None, derandomize=not SWEEP, database=None,
                    suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------ random expressions and their oracle

small = st.integers(-9, 9)
divisor = st.sampled_from([-3, -2, 2, 2, 2, 3, 4, 5, 8])


@st.composite
def exprs(draw, depth: int = 5):
    """(Sym or int, python function of n): built by the same operations."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return H, (lambda n: n)
        c = draw(small)
        return c, (lambda n, c=c: c)
    kind = draw(st.sampled_from(["add", "sub", "mul", "floordiv", "floordiv", "mod", "rsub"]))
    a, fa = draw(exprs(depth - 1))
    if kind in ("add", "sub"):
        b, fb = draw(exprs(depth - 1))
        if kind == "add":
            return a + b, (lambda n: fa(n) + fb(n))
        return a - b, (lambda n: fa(n) - fb(n))
    if kind == "rsub":
        c = draw(small)
        return c - a, (lambda n: c - fa(n))
    if kind == "mul":
        c = draw(small)
        return a * c, (lambda n: fa(n) * c)
    m = draw(divisor)
    if kind == "floordiv":
        return a // m, (lambda n: fa(n) // m)
    return a % m, (lambda n: fa(n) % m)


def value(e, n: int) -> int:
    return e.evaluate({"H": n}) if isinstance(e, Sym) else e


@examples(300)
@given(exprs())
def test_simplification_never_changes_the_value(pair):
    e, f = pair
    for n in NS:
        assert value(e, n) == f(n), (str(e), n)


@examples(150)
@given(exprs())
def test_str_reparses_to_the_same_function_and_the_same_canonical_sym(pair):
    e, f = pair
    text = str(e)
    for n in NS:
        assert eval(text, {"H": n}) == f(n), (text, n)  # noqa: S307 - our own output
    again = eval(text, {"H": H})  # noqa: S307
    assert all(value(again, n) == f(n) for n in NS[::5])
    if in_normal_form(e):  # the normal form is a fixpoint: re-building it changes nothing
        assert again == e and hash(again) == hash(e), (text, str(again))
        assert canonical(e) == e
        COUNTS["re-parsed to the same Sym"] = COUNTS.get("re-parsed to the same Sym", 0) + 1


@examples(200)
@given(exprs(), exprs())
def test_equal_functions_built_two_ways_are_one_sym_in_normal_form(p, q):
    """Whatever the rules prove: a + b − b is a; (a·m)//m is a; (a + m·b)//m is a//m + b; and
    results are canonical fixpoints of re-building."""
    (a, fa), (b, fb) = p, q
    pairs = [((a + b) - b, a)]
    for m in (2, 3, 8):
        pairs += [((a * m) // m, a), ((a + b * m) // m, a // m + b), ((a // m) // 2, a // (2 * m))]
    for x, y in pairs:
        for n in NS[::7]:
            assert value(x, n) == value(y, n)  # equal functions, always
        if in_normal_form(x) and in_normal_form(y):
            assert x == y and hash(x) == hash(y), (str(x), str(y))
            COUNTS["equal in normal form"] = COUNTS.get("equal in normal form", 0) + 1
        else:
            COUNTS["outside the normal form"] = COUNTS.get("outside the normal form", 0) + 1
    both = a + b
    if in_normal_form(both):
        assert canonical(Sym("add", (a, b)) if isinstance(a, Sym) and isinstance(b, Sym) else both) == both


def test_the_nested_encoder_floors_collapse():
    e = (((H - 2) // 2 - 1) // 2 - 1) // 2 + 1
    assert str(e) == "H//8"
    assert e == H // 8 and hash(e) == hash(H // 8)
    for n in range(1, 200):
        assert e.evaluate({"H": n}) == ((((n - 2) // 2 - 1) // 2 - 1) // 2 + 1)
    assert str((H - 2) // 2 + 1) == "H//2"  # a stride-2 kernel-2 conv
    assert str((H + 2 - 3) // 2 + 1) == "(H + 1)//2"  # kernel 3, stride 2, padding 1


@pytest.mark.parametrize(
    "build, text",
    [
        (lambda: 2 * (H // 2), "2*(H//2)"),
        (lambda: (H + 1) // 2, "(H + 1)//2"),
        (lambda: H - 2, "H - 2"),
        (lambda: -(H // 2), "-(H//2)"),
        (lambda: (-H) // 2, "-((H + 1)//2)"),
        (lambda: H % 2, "H - 2*(H//2)"),
        (lambda: (H % 2) // 2, "0"),
        (lambda: (2 * H + 1) // 2, "H"),
        (lambda: (4 * H + 6) // 6, "H - (H + 2)//3 + 1"),
        (lambda: (2 * H) // 3, "H - (H + 2)//3"),
        (lambda: (H // 2) // 3, "H//6"),
        (lambda: (H // 2 + 1) // 2, "(H + 2)//4"),
        (lambda: H // -2, "-((H + 1)//2)"),
        (lambda: H // 2 + H // 4, "(H + 2)//4 + 2*(H//4)"),  # one variable: the form of its steps
        (lambda: H // 2 + W // 4, "H//2 + W//4"),
        (lambda: (H + W) // 2 + H // 2, "(H + W)//2 + H//2"),
        (lambda: W + H, "H + W"),
        (lambda: (W + H) // 2 - (H + W) // 2, "0"),
        (lambda: max_of(W, H), "max(H, W)"),
    ],
)
def test_canonical_text(build, text):
    e = build()
    assert str(e) == text
    env = {"H": 13, "W": 6, "max": max}
    assert eval(text, dict(env)) == (e.evaluate({"H": 13, "W": 6}) if isinstance(e, Sym) else e)  # noqa: S307


def test_equal_sizes_print_alike_and_hash_alike():
    a = (H - 3 + 2) // 1 + 1  # kernel 3, padding 1: same size
    assert a == H and hash(a) == hash(H)
    b = (H + 2 * 1 - 1 * (4 - 1) - 1) // 2 + 1  # k=4, s=2, p=1
    c = H // 2
    assert b == c and str(b) == str(c) == "H//2"
    assert {b: 1}[c] == 1
    assert H - H == 0 and isinstance(H - H, int)


def test_hand_built_trees_become_canonical():
    raw = Sym("floordiv", (Sym("floordiv", (Sym("add", (H, -2)), 2)), 2))
    assert canonical(raw) == (H - 2) // 4 == (H + 2) // 4 - 1
    assert raw.evaluate({"H": 11}) == canonical(raw).evaluate({"H": 11})


# ------------------------------------------------------------------ the engine's API keeps working


def test_engine_api():
    assert H.op == "var" and H.args == ("H",)
    e = (H - 1) // 2 + 1
    assert e.variables() == {"H"}
    assert is_size(e) and is_size(3) and not is_size(True)
    assert always_differ(H // 2, H // 2 + 1)
    assert not always_differ(H // 2, (H + 1) // 2)  # equal for even H
    x, y, env = differ_example(H // 2, (H + 1) // 2)
    assert x != y and env["H"] % 2 == 1
    assert always_below_one(H - H - 1 + 0 * H) is True  # a constant
    assert always_below_one((1 - H) // 2) and always_below_one(H // 8 - H)
    assert not always_below_one(H - 2)
    assert 256 in sizes_for(H // 8) and len(sizes_for(H // 8)) > 256
    assert str(H * H) == "H*H" and H * W == W * H
    with pytest.raises(TypeError):
        H // (H + 1)  # a division that is not exact is not made up
    with pytest.raises(TypeError):
        2 // H
    assert H.__floordiv__(0) is NotImplemented and H.__add__(0.5) is NotImplemented and H.__add__(True) is NotImplemented


def test_a_sum_of_floors_with_coprime_divisors_keeps_the_rules_form():
    e = -((H + 32) // 64) - (H + 2) // 3
    assert str(e) == "-((H + 2)//3) - (H + 32)//64" and not in_normal_form(e)
    assert all(e.evaluate({"H": n}) == -((n + 32) // 64) - (n + 2) // 3 for n in range(-5, 300))


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if COUNTS:
        import sys

        sys.stderr.write(f"\nconvlint symbolic: {COUNTS}\n")


def test_always_differ_is_exact_where_a_sweep_of_small_sizes_is_not():
    """H and H//2 + 600 are equal at two sizes near 1200, none of which a sweep of small sizes,
    period multiples and powers of two visits: not a mismatch 'for every size'."""
    a, b = H, H // 2 + 600
    assert not always_differ(a, b)
    equal_at = [n for n in range(1, 3000) if a.evaluate({"H": n}) == b.evaluate({"H": n})]
    assert len(equal_at) == 2 and not set(equal_at) & set(sizes_for(a, b))
    assert always_differ(H // 2 * 2 + 1, H // 2 * 2)  # odd vs even
    assert not always_differ(2 * (H // 2), H)  # equal for even H
    assert not always_below_one(H - 2000) and always_below_one(H // 4 - H)


# ------------------------------------------------------------------ products of sizes

@st.composite
def factors(draw):
    """(Sym or int, python function of (h, w)): a size of H and W as convolutions make them."""
    kind = draw(st.sampled_from(["H", "W", "floor", "sum", "const"]))
    if kind == "H":
        return H, (lambda h, w: h)
    if kind == "W":
        return W, (lambda h, w: w)
    if kind == "const":
        c = draw(st.integers(1, 9))
        return c, (lambda h, w, c=c: c)
    m = draw(st.sampled_from([2, 3, 4, 7]))
    b = draw(st.integers(0, 5))
    base, fb = (H, (lambda h, w: h)) if draw(st.booleans()) else (W, (lambda h, w: w))
    if kind == "floor":
        return (base + b) // m, (lambda h, w: (fb(h, w) + b) // m)
    k = draw(st.integers(1, 3))
    return k * base + b, (lambda h, w: k * fb(h, w) + b)


HW = [(h, w) for h in (1, 2, 3, 7, 8, 16, 31, 64, 65, 224) for w in (1, 5, 8, 28, 33, 128)]


def value2(e, h: int, w: int) -> int:
    return e.evaluate({"H": h, "W": w}) if isinstance(e, Sym) else e


@examples(300)
@given(st.lists(factors(), min_size=1, max_size=4), st.integers(-3, 3).filter(bool))
def test_a_product_of_sizes_keeps_its_value_prints_as_python_and_divides_back(fs, c):
    prod, fns = c, [lambda h, w, c=c: c]
    for e, f in fs:
        prod = prod * e
        fns.append(f)

    def oracle(h, w):
        out = 1
        for f in fns:
            out *= f(h, w)
        return out

    for h, w in HW:
        assert value2(prod, h, w) == oracle(h, w), str(prod)
        assert eval(str(prod), {"H": h, "W": w}) == oracle(h, w), str(prod)  # noqa: S307 - our own output
    # the same product in another order is the same Sym
    again = c
    for e, _f in reversed(fs):
        again = e * again
    assert again == prod and hash(again) == hash(prod), (str(again), str(prod))
    # dividing by any of its factors (or several) gives the rest back, exactly
    for k in range(len(fs)):
        part = 1
        for e, _f in fs[k:]:
            part = part * e
        from convlint.interpret.symbolic import exact_div

        q = exact_div(prod, part)
        if isinstance(part, Sym):
            assert q is not None, (str(prod), str(part))
        if q is not None:
            for h, w in HW:
                assert value2(q, h, w) * value2(part, h, w) == oracle(h, w), (str(prod), str(part), str(q))


def test_exact_division_refuses_what_is_not_exact():
    from convlint.interpret.symbolic import exact_div

    assert exact_div(H * W + 1, W) is None
    assert exact_div(H * W, H + 1) is None
    assert exact_div(2 * H * W, 4 * H) is None  # 2HW / 4H = W/2: not whole for odd W
    assert exact_div(3 * H + 6, 3) == H + 2 and exact_div(3 * H + 1, 3) is None
    assert exact_div((2 * H + 2) * W, (H + 1) * W) == 2
    assert exact_div(2 * H * W + 4 * H, 2 * H) == W + 2
