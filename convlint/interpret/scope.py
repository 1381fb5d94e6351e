"""Scopes: where names live while the interpreter runs.

A :class:`Scope` is a frame (function, class body, comprehension) or the global scope of the
analysed file, which runs its whole top level. :class:`ModuleScope` is the global scope of an
*imported* module: it is evaluated lazily, one top-level statement at a time — looking up a name
runs only the statement that binds it (found through the module's :class:`~convlint.source.index.ModuleIndex`)
and the later statements that mutate it (``REG["a"] = A``). Importing a package must not mean
interpreting, or even parsing, everything it imports.
"""

from __future__ import annotations

from contextlib import contextmanager

import libcst as cst

from convlint.interpret.events import Trace
from convlint.interpret.flow import Break, BudgetExceeded, Continue, Dead, Return
from convlint.interpret.values import MISSING

__all__ = ["Scope", "ModuleScope", "LazyImport"]


_RESOLVING = object()


@contextmanager
def module_level(interp):
    """Run an imported module's top level (or look up one of its names): it is not part of the
    entry being run — its events go to a trace of their own, its steps are not the entry's."""
    saved_trace, saved_steps = interp.trace, interp.steps
    interp.trace = Trace()
    try:
        yield
    finally:
        interp.trace, interp.steps = saved_trace, saved_steps


class LazyImport:
    """A name an imported module binds with ``from m import name``, not looked up yet.

    ``from .models import (A, B, ...)`` in a package's ``__init__`` names hundreds of classes; an
    analysis uses a few. The binding is looked up (``m`` found, parsed, and the statement that binds
    ``name`` there run) when the name is first read, through :meth:`ModuleScope.lookup`. Python
    imports ``m`` at once; the difference is not observable here, since an imported module's top
    level is evaluated one binding at a time anyway (its side effects only when they bind a name
    that is read).
    """

    __slots__ = ("dotted", "level", "importer", "name", "value")

    def __init__(self, dotted: str, level: int, importer, name: str):
        self.dotted = dotted
        self.level = level
        self.importer = importer
        self.name = name
        self.value = MISSING

    def same(self, other) -> bool:
        return isinstance(other, LazyImport) and other.importer is self.importer and (other.dotted, other.level, other.name) == (self.dotted, self.level, self.name)

    def force(self, interp):
        v = self.value
        if v is _RESOLVING:
            from convlint.interpret.values import Unknown

            return Unknown(f"{'.' * self.level}{self.dotted}.{self.name} is imported circularly")
        if v is not MISSING:
            return v
        self.value = _RESOLVING
        try:
            with module_level(interp), interp.in_module(self.importer):
                base = interp.import_module(self.dotted, self.level)
                v = interp.getattr(base, self.name, None, import_from=True)
        finally:
            if self.value is _RESOLVING:
                self.value = MISSING
        self.value = v
        return v


def settle(interp, v):
    """``v``, or what a :class:`LazyImport` stands for."""
    return v.force(interp) if type(v) is LazyImport else v


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
            if isinstance(s, ModuleScope):
                return s.lookup(name)
            if name in s.vars:
                return s.vars[name]
            s = s.parent
        return MISSING


class ModuleScope(Scope):
    """An imported module's globals, evaluated one binding statement at a time."""

    __slots__ = ("interp", "module", "index", "done", "running", "unstarred", "searching")

    def __init__(self, interp, module):
        super().__init__(None, "module")
        self.interp = interp
        self.module = module
        self.vars["__name__"] = module.name
        self.vars["__file__"] = module.path
        self.index = module.parsed.index
        self.done: set[int] = set()
        self.running: set[int] = set()
        self.unstarred: set[str] = set()  # names no star import of this module binds (asked before)
        self.searching: dict[str, int] = {}  # name -> the star import being followed for it (a cycle looks before it)

    def lookup(self, name: str):
        if name not in self.vars:
            self.resolve(name)
        v = self.vars.get(name, MISSING)
        if type(v) is LazyImport:
            forced = v.force(self.interp)
            if self.vars.get(name) is v:
                self.vars[name] = forced
            v = forced
        return v

    def resolve(self, name: str) -> None:
        idxs = self.index.names.get(name)
        if not idxs:
            if self.index.stars and name not in self.unstarred:  # perhaps from ``from x import *``
                self._from_stars(name)
            return
        last = idxs[-1]
        self.run(last)
        for i in self.index.mutations.get(name, ()):
            if i > last:
                self.run(i)

    def _from_stars(self, name: str) -> None:
        """Bind ``name`` from this module's star imports, the last first (in Python a later star
        import rebinds what an earlier one bound). A plain ``from m import *`` line is followed for
        this name only: ``m`` is asked for it (through its own index and star imports) and nothing
        else of ``m`` runs — ``timm.models`` star-imports a hundred model files, and one name
        missing from it must not run them all. A star import inside a block (``try:``) runs whole.

        In a cycle (``m`` imports the name back from this module: PyTorch-VAE's model files do
        ``from models import BaseVAE``), ``m`` holds what this module had bound when Python ran
        that star import: the binding of an earlier star import, which is looked for instead."""
        if name in ("__all__", "__name__", "__file__"):
            return
        outer = self.searching.get(name)  # a lookup of the name again while following star ``outer``
        stars = self.index.stars
        try:
            for pos in range(len(stars) - 1 if outer is None else outer - 1, -1, -1):
                self.searching[name] = pos
                i = stars[pos]
                target = self._plain_star(i)
                if target is None:  # not a plain star import line: run it, with everything it binds
                    self.run(i)
                    if name in self.vars:
                        return
                    continue
                g = self.interp.module_globals(target) if target is not False else None
                if g is None:
                    continue
                if isinstance(g, ModuleScope):
                    if name not in g.vars and not g.index.names.get(name) and not g.index.stars:
                        continue
                    if name not in g.vars:
                        g.resolve(name)
                    raw = g.vars.get(name, MISSING)
                    if type(raw) is LazyImport and raw.name == name and self._is_self(raw):
                        continue  # ``from <this module> import name``: an earlier star's binding
                if not star_binds(star_exports(g), name):
                    continue
                # (the analysed file itself, star-imported back, has all its globals bound)
                v = g.lookup(name) if isinstance(g, ModuleScope) else g.vars.get(name, MISSING)
                if v is not MISSING:
                    self.vars[name] = v
                    return
            if outer is None:
                self.unstarred.add(name)
        finally:
            if outer is None:
                self.searching.pop(name, None)
            else:
                self.searching[name] = outer

    def _is_self(self, imp: LazyImport) -> bool:
        """Does ``imp`` import from this very module?"""
        from convlint.source.project import ModuleInfo

        m = self.interp.import_module(imp.dotted, imp.level, imp.importer)
        return isinstance(m, ModuleInfo) and m.path == self.module.path

    def _plain_star(self, i: int):
        """The module a top-level line ``from m import *`` imports (a project module), False when
        ``m`` is none (a framework or an outside module: Python binds its names, convlint knows
        none of them), None when statement ``i`` is something else (a star import in a block)."""
        from convlint.source.project import ModuleInfo

        stmt = self.module.parsed.statement(i)
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return None
        node = stmt.body[0]
        if not isinstance(node, cst.ImportFrom) or not isinstance(node.names, cst.ImportStar):
            return None
        dotted, level = import_from_target(node)
        if not (dotted or level):
            return False
        base = self.interp.import_module(dotted, level, self.module)
        return base if isinstance(base, ModuleInfo) else False

    def resolve_all(self) -> None:
        for i in range(len(self.index.statements)):
            self.run(i)

    def run(self, i: int) -> None:
        if i in self.done or i in self.running:
            return
        self.running.add(i)
        interp = self.interp
        try:
            stmt = self.module.parsed.statement(i)
            if stmt is not None:
                with module_level(interp), interp.in_module(self.module):
                    try:
                        interp.exec_stmt(stmt, self)
                    except (Return, Break, Continue, Dead):
                        pass
                    except BudgetExceeded:
                        self.module.incomplete = True
        finally:
            self.running.discard(i)
            self.done.add(i)


def star_exports(g) -> set[str] | None:
    """The names ``from m import *`` binds, where ``g`` is ``m``'s globals: those of ``m.__all__``
    when it is a known list or tuple of strings, else None — then, as in Python without
    ``__all__``, every name that does not start with an underscore."""
    v = g.lookup("__all__") if isinstance(g, ModuleScope) else g.vars.get("__all__", MISSING)
    if isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
        return set(v)
    return None


def star_binds(exported: set[str] | None, name: str) -> bool:
    """Does a star import bind ``name``, given its module's :func:`star_exports`?"""
    return name in exported if exported is not None else not name.startswith("_")


def import_from_target(node: cst.ImportFrom) -> tuple[str, int]:
    """The module ``from m import …`` names: its dotted name ("" for ``from . import``) and level."""
    return (dotted_name(node.module) if node.module is not None else ""), len(node.relative)


def dotted_name(node) -> str:
    """``a.b.c`` of a dotted-name node (a module in an import, a decorator): "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return dotted_name(node.value) + "." + node.attr.value
    return ""
