"""The reverse-import index: which files of the project import a file, directly or through others.

``convlint check parts.py`` (a pre-commit hook passes only the staged files) must check what
reaches ``parts.py``: the U-Net in ``model.py`` that runs its blocks, the smoke test that runs the
U-Net. :func:`importers` scans the project's Python files for their import statements with a
regular expression (no parsing: a few milliseconds for a thousand files), resolves each import the
way the interpreter does (:func:`search_roots`: the same folders in the same order; this module
imports nothing heavy, so that ``convlint check`` starts without libcst), and walks the reversed graph from the given files.

An import the scan misreads costs at most an extra file analysed (an ``import`` line inside a
string) or a missed importer (an ``importlib.import_module`` call) — never a finding: only what the
analysis of the importers reports in the given files is kept.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable


__all__ = ["MAX_FILES", "MAX_REACHING", "imports_of", "importers", "search_roots"]

MAX_FILES = 20000  # files scanned at most; beyond, importers are not followed (the caller warns)
MAX_REACHING = 16  # importers analysed at most, nearest first (the caller says how many were left)
MAX_SIZE = 2_000_000  # a larger file is not scanned (the analysis does not import it either)

_FROM = re.compile(r"[ \t]*from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]*(?:\\\n[^\n#;]*)*)", re.M)
_IMPORT = re.compile(r"[ \t]*import[ \t]+([^\n#;]+)", re.M)
_WORD = re.compile(r"import\b")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


def search_roots(importer_path, root: Path, is_file=os.path.isfile) -> list[Path]:
    """The folders an absolute import of the file ``importer_path`` (None: no importer) is looked
    up in, first first: its folder, the top of its package, every folder up to the project root
    (namespace packages, scripts run from the top), the root and ``root/src``. The reverse-import
    index (below) resolves imports with the same list."""
    roots = []
    if importer_path is not None:
        d = Path(os.path.abspath(importer_path)).parent
        roots.append(d)
        # the top of the importer's package: the first ancestor without __init__.py
        top = d
        while is_file(top / "__init__.py") and top.parent != top:
            top = top.parent
        roots.append(top)
        # namespace packages have no __init__.py: any ancestor up to the project root may be
        # where the import is rooted (scripts run from the repository's top, ``src/`` layouts)
        up = d
        while up != up.parent and (up == root or root in up.parents):
            roots.append(up)
            up = up.parent
    roots.append(root)
    roots.append(root / "src")
    out = []
    for r in roots:
        if r not in out:
            out.append(r)
    return out


def imports_of(text: str) -> list[tuple[int, str, str | None]]:
    """``(level, module, name)`` for every import statement of ``text``: ``from a.b import c`` is
    ``(0, "a.b", "c")`` (``c`` may be a submodule or a name defined or re-exported by ``a.b``),
    ``from . import x`` is ``(1, "", "x")``, ``import a.b as ab`` is ``(0, "a.b", None)`` and a star
    import ``(level, module, "*")``."""
    out: list[tuple[int, str, str | None]] = []
    if "import" not in text:
        return out
    starts = set()
    for m in _WORD.finditer(text):  # a literal scan; then each statement is matched at its line start
        start = text.rfind("\n", 0, m.start()) + 1
        if start in starts:
            continue
        starts.add(start)
        f = _FROM.match(text, start)
        if f is not None:
            level, base, names = len(f.group(1)), f.group(2), f.group(3)
            for part in names.strip("()\\\n ").replace("\\\n", " ").split(","):
                name = part.split(" as ")[0].strip().strip("()")
                if name == "*" or _NAME.fullmatch(name):
                    out.append((level, base, name))
            continue
        i = _IMPORT.match(text, start)
        if i is not None:
            for part in i.group(1).split(","):
                name = part.split(" as ")[0].strip()
                if _NAME.fullmatch(name):
                    out.append((0, name, None))
    return out


class _Index:
    """The project's files, their imports, and the resolution of an import to the file that
    defines what it imports (re-exports in a package's ``__init__.py`` are followed to the module
    that defines the name, so that importing one model from a package does not make a file an
    importer of every module the package re-exports). Paths are plain strings (pathlib costs ten
    times more here); every resolution is memoised."""

    def __init__(self, files, root: Path):
        self.root = Path(root)
        self.files = {os.path.normpath(f) for f in files}
        self.heads = set()  # a top-level name that may be the project's
        for f in self.files:
            for part in f.split(os.sep):
                self.heads.add(part[:-3] if part.endswith(".py") else part)
        self._imports: dict[str, list] = {}
        self._modules: dict[tuple, str | None] = {}
        self._defs: dict[tuple, frozenset] = {}
        self._roots: dict[str, list[str]] = {}

    def imports(self, f: str) -> list:
        if f not in self._imports:
            from convlint.source.files import read_regular

            try:  # regular files only, at most MAX_SIZE bytes (a link to /dev/zero, a FIFO: nothing)
                text = read_regular(f, MAX_SIZE).decode("utf-8", errors="replace")
            except OSError:
                text = ""
            self._imports[f] = imports_of(text)
        return self._imports[f]

    def _file_for(self, base: str, parts: list[str]) -> str | None:
        target = os.path.join(base, *parts) if parts else base
        if parts and target + ".py" in self.files:
            return target + ".py"
        init = os.path.join(target, "__init__.py")
        return init if init in self.files else None

    def module(self, importer: str, level: int, dotted: str) -> str | None:
        parts = [p for p in dotted.split(".") if p]
        if level == 0 and (not parts or parts[0] not in self.heads):
            return None  # torch, numpy: not a project module
        d = os.path.dirname(importer)
        key = (d, level, dotted)
        if key not in self._modules:
            if level > 0:
                base = d
                for _ in range(level - 1):
                    base = os.path.dirname(base)
                hit = self._file_for(base, parts)
            else:
                if d not in self._roots:
                    self._roots[d] = [str(r) for r in search_roots(importer, self.root, is_file=lambda p: os.path.normpath(p) in self.files)]
                hit = next((h for r in self._roots[d] if (h := self._file_for(r, parts)) is not None), None)
            self._modules[key] = hit
        return self._modules[key]

    def targets(self, importer: str, level: int, dotted: str, name: str | None) -> frozenset:
        """The files an import statement's names are defined in."""
        if name is None:
            hit = self.module(importer, level, dotted)
            return frozenset((hit,)) if hit is not None else frozenset()
        if name != "*":
            sub = self.module(importer, level, f"{dotted}.{name}" if dotted else name)
            if sub is not None:
                return frozenset((sub,))
        mod = self.module(importer, level, dotted) if (dotted or level) else None
        if mod is None:
            return frozenset()
        return self._defining(mod, name)

    def _defining(self, mod: str, name: str) -> frozenset:
        """Where ``name`` of ``mod`` comes from: the module(s) it is re-exported from, followed
        (a star import of a package's ``__init__.py`` may hold it), or ``mod`` itself."""
        if name == "*":
            return frozenset((mod,))
        key = (mod, name)
        if key in self._defs:
            return self._defs[key]
        self._defs[key] = frozenset((mod,))  # a cycle of re-exports ends here
        out: set[str] = set()
        is_init = mod.endswith(os.sep + "__init__.py")
        for level, dotted, n in self.imports(mod):
            if n == name or (n == "*" and is_init):
                out |= {t for t in self.targets(mod, level, dotted, name) if t != mod}
        self._defs[key] = frozenset(out or (mod,))
        return self._defs[key]


def importers(targets: Iterable[Path], files: Iterable[Path], root: Path) -> list[Path]:
    """The files among ``files`` whose code may run one of ``targets``: they import a name defined
    there, directly or through other files of ``files``. Nearest first (by the number of import
    hops, then by path); the targets themselves are not in the result."""
    index = _Index(files, Path(os.path.normpath(root)))
    reverse: dict[str, set[str]] = {}
    for f in sorted(index.files):
        for level, dotted, name in index.imports(f):
            for hit in index.targets(f, level, dotted, name):
                if hit != f:
                    reverse.setdefault(hit, set()).add(f)
    starts = sorted({os.path.normpath(t) for t in targets})
    seen = set(starts)
    out: list[Path] = []
    frontier = starts
    while frontier:
        nxt = set()
        for t in frontier:
            for imp in reverse.get(t, ()):
                if imp not in seen:
                    seen.add(imp)
                    nxt.add(imp)
        frontier = sorted(nxt)
        out += [Path(f) for f in frontier]
    return out
