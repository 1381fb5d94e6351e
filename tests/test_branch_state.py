"""The state a branch on an unknown condition saves and joins (``StatementEvaluator.branch``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from convlint.interpret.interpreter import Interpreter
from convlint.interpret.scope import Scope
from convlint.interpret.values import ClassVal, Instance

CLS = ClassVal(None, None, "M", [])


def _reference(scope) -> list:
    # the definition: every list, dict and instance within three levels of a binding (64 entries of
    # each; an instance's attributes followed to its lists and dicts only), depth first, once each
    def reach(v, depth):
        if depth > 2:
            return
        if isinstance(v, (list, dict)):
            yield v
            for x in (v if isinstance(v, list) else list(v.values()))[:64]:
                yield from reach(x, depth + 1)
        elif isinstance(v, Instance):
            yield v
            for x in list(v.attrs.values())[:64]:
                if isinstance(x, (list, dict)):
                    yield from reach(x, depth + 1)

    out, seen = [], set()
    for v in list(scope.vars.values()):
        for o in reach(v, 0):
            if id(o) not in seen:
                seen.add(id(o))
                out.append(o)
    return out


@st.composite
def graphs(draw):
    # a few shared objects, so that one is reached along several paths and at several depths
    pool: list = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["list", "dict", "instance", "int"]))
        pool.append([] if kind == "list" else {} if kind == "dict" else Instance(CLS) if kind == "instance" else draw(st.integers(0, 3)))
    for o in pool:
        for _ in range(draw(st.integers(0, 70 if draw(st.booleans()) else 4))):
            x = pool[draw(st.integers(0, len(pool) - 1))]
            if isinstance(o, list):
                o.append(x)
            elif isinstance(o, dict):
                o[f"k{len(o)}"] = x
            elif isinstance(o, Instance):
                o.attrs[f"a{len(o.attrs)}"] = x
    scope = Scope(None)
    for i in range(draw(st.integers(0, 5))):
        scope.vars[f"v{i}"] = pool[draw(st.integers(0, len(pool) - 1))]
    return scope


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(graphs())
def test_the_objects_a_branch_saves_are_those_of_the_definition(scope):
    interp = Interpreter.__new__(Interpreter)
    got = interp._mutable_roots(scope)
    want = _reference(scope)
    assert [id(o) for o in got] == [id(o) for o in want]
