"""Scopes: where names live while the interpreter runs.

A :class:`Scope` is a frame (function, class body, comprehension) or the global scope of the
analysed file, which runs its whole top level. :class:`ModuleScope` is the global scope of an
*imported* module: it is evaluated lazily, one top-level statement at a time — looking up a name
runs only the statement that binds it (found through the module's :class:`~convlint.source.index.ModuleIndex`)
and the later statements that mutate it (``REG["a"] = A``). Importing a package must not mean
interpreting, or even parsing, everything it imports.
"""

from __future__ import annotations

from convlint.interpret.events import Trace
from convlint.interpret.flow import Break, BudgetExceeded, Continue, Dead, Return
from convlint.interpret.values import MISSING

__all__ = ["Scope", "ModuleScope"]


class Scope:
    """A frame or the analysed module's globals. ``owner_cls``/``self_name`` are set for methods
    (what ``super()`` needs); ``returns`` collects return values of paths that ended early."""

    __slots__ = ("vars", "parent", "kind", "returns", "owner_cls", "self_name", "origins")

    def __init__(self, parent: Scope | None, kind: str = "function"):
        self.vars: dict = {}
        # parameter -> Site of the expression in the user's code that supplied its value (through
        # any number of helpers that pass it on unchanged): where a finding about it belongs
        self.origins: dict = {}
        self.parent = parent
        self.kind = kind  # "function" | "class" | "module"
        self.returns: list = []
        self.owner_cls = None
        self.self_name = None

    def lookup(self, name: str):
        s = self
        while s is not None:
            if name in s.vars:
                return s.vars[name]
            if isinstance(s, ModuleScope):
                return s.lookup(name)
            s = s.parent
        return MISSING


class ModuleScope(Scope):
    """An imported module's globals, evaluated one binding statement at a time."""

    __slots__ = ("interp", "module", "index", "done", "running")

    def __init__(self, interp, module):
        super().__init__(None, "module")
        self.interp = interp
        self.module = module
        self.vars["__name__"] = module.name
        self.vars["__file__"] = module.path
        self.index = module.parsed.index
        self.done: set[int] = set()
        self.running: set[int] = set()

    def lookup(self, name: str):
        if name not in self.vars:
            self.resolve(name)
        return self.vars.get(name, MISSING)

    def resolve(self, name: str) -> None:
        idxs = self.index.names.get(name)
        if not idxs:
            for i in self.index.stars:  # perhaps from ``from x import *``
                self.run(i)
            return
        last = idxs[-1]
        self.run(last)
        for i in self.index.mutations.get(name, ()):
            if i > last:
                self.run(i)

    def resolve_all(self) -> None:
        for i in range(len(self.index.statements)):
            self.run(i)

    def run(self, i: int) -> None:
        if i in self.done or i in self.running:
            return
        self.running.add(i)
        interp = self.interp
        saved_trace, saved_steps = interp.trace, interp.steps
        interp.trace = Trace()  # an imported module's top level is not an entry of this analysis
        try:
            stmt = self.module.parsed.statement(i)
            if stmt is not None:
                with interp.in_module(self.module):
                    try:
                        interp.exec_stmt(stmt, self)
                    except (Return, Break, Continue, Dead):
                        pass
                    except BudgetExceeded:
                        self.module.incomplete = True
        finally:
            interp.trace, interp.steps = saved_trace, saved_steps
            self.running.discard(i)
            self.done.add(i)
