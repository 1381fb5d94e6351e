"""The project: parsing files once per run, and resolving the repository's own imports to files.

A :class:`ParsedModule` (tree, text, hash, positions) is shared by every analysis of one run; a
:class:`ModuleInfo` is one analysis' view of it (its own global scope), so that one file's
interpretation never leaks state into another's.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from convlint.source.prescreen import prescreen


class ParsedModule:
    __slots__ = ("path", "name", "text", "sha", "tree", "error", "_positions", "_lines")

    def __init__(self, path: str, name: str, text: str):
        self.path = path
        self.name = name
        self.text = text
        self.sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self.tree: cst.Module | None = None
        self.error: Exception | None = None
        self._positions = None
        self._lines = None
        try:
            self.error = prescreen(text)  # what CPython rejects, or LibCST cannot parse safely
            if self.error is None:
                self.tree = cst.parse_module(text)
        except Exception as e:  # libcst's ParserSyntaxError, or a recursion error on absurd input
            self.error = e

    def position(self, node: cst.CSTNode):
        """``(line, column, end_line, end_column)``, 1-based columns, end exclusive; None if unknown."""
        if self._positions is None:
            try:
                wrapper = MetadataWrapper(self.tree, unsafe_skip_copy=True)
                self._positions = wrapper.resolve(PositionProvider)
            except Exception:
                self._positions = {}
        r = self._positions.get(node)
        if r is None:
            return None
        return (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)


class ModuleInfo:
    """One analysis' view of a parsed module: its global scope is built on first use."""

    __slots__ = ("parsed", "scope", "incomplete", "main")

    def __init__(self, parsed: ParsedModule, main: bool = False):
        self.parsed = parsed
        self.scope = None
        self.incomplete = False
        self.main = main

    @property
    def path(self) -> str:
        return self.parsed.path

    @property
    def name(self) -> str:
        return "__main__" if self.main else self.parsed.name

    @property
    def tree(self):
        return self.parsed.tree


def display_path(path: str | os.PathLike) -> str:
    """Relative to the working directory when inside it, with forward slashes; else absolute."""
    p = os.path.abspath(path)
    try:
        rel = os.path.relpath(p)
    except ValueError:
        return p
    if rel.startswith(".."):
        return p
    return rel.replace(os.sep, "/")


class Project:
    """The files of one run: parsed on demand, cached by absolute path."""

    MAX_IMPORT_SIZE = 2_000_000

    def __init__(self, root: str | os.PathLike, config=None):
        self.root = Path(root).resolve()
        self.config = config
        self._parsed: dict[str, ParsedModule | None] = {}
        self._session: dict[str, ModuleInfo] | None = None
        self._deps: dict[str, str] | None = None
        self._main: str | None = None

    # --------------------------------------------------------------- sessions (one per analysis)
    def begin(self, main_path: str) -> None:
        self._session = {}
        self._deps = {}
        self._main = os.path.abspath(main_path)

    def end(self) -> dict[str, str]:
        deps = self._deps or {}
        self._session = None
        self._deps = None
        return deps

    def parse_text(self, path: str, text: str) -> ParsedModule:
        ap = os.path.abspath(path)
        cached = self._parsed.get(ap)
        if cached is not None and cached.text == text:
            return cached
        pm = ParsedModule(display_path(ap), self.module_name(ap), text)
        self._parsed[ap] = pm
        return pm

    def parsed(self, path: str) -> ParsedModule | None:
        ap = os.path.abspath(path)
        if ap in self._parsed:
            return self._parsed[ap]
        try:
            if os.path.getsize(ap) > self.MAX_IMPORT_SIZE:
                self._parsed[ap] = None
                return None
            with open(ap, "rb") as f:
                data = f.read()
            text = data.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            self._parsed[ap] = None
            return None
        pm = ParsedModule(display_path(ap), self.module_name(ap), text)
        if pm.tree is None:
            pm = None
        self._parsed[ap] = pm
        return pm

    def info(self, path: str) -> ModuleInfo | None:
        ap = os.path.abspath(path)
        if self._session is not None and ap in self._session:
            return self._session[ap]
        pm = self.parsed(ap)
        if pm is None or pm.tree is None:
            return None
        mi = ModuleInfo(pm, main=(ap == self._main))
        if self._session is not None:
            self._session[ap] = mi
            if ap != self._main and self._deps is not None:
                self._deps[display_path(ap)] = pm.sha
        return mi

    # --------------------------------------------------------------- module names and imports
    def module_name(self, path: str) -> str:
        p = Path(path)
        try:
            rel = p.resolve().relative_to(self.root)
        except ValueError:
            return p.stem
        parts = list(rel.with_suffix("").parts)
        if parts and parts[0] == "src" and len(parts) > 1:
            parts = parts[1:]
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts) or p.stem

    def _search_roots(self, importer) -> list[Path]:
        roots = []
        if importer is not None:
            d = Path(os.path.abspath(importer.path)).parent
            roots.append(d)
            # the top of the importer's package: the first ancestor without __init__.py
            top = d
            while (top / "__init__.py").exists() and top.parent != top:
                top = top.parent
            roots.append(top)
        roots.append(self.root)
        roots.append(self.root / "src")
        out = []
        for r in roots:
            if r not in out:
                out.append(r)
        return out

    def find_module(self, dotted: str, level: int, importer, package_of: bool = False):
        """The ModuleInfo for an import of the project's own code, or None."""
        parts = [p for p in dotted.split(".") if p] if dotted else []
        if level > 0 or package_of:
            if importer is None:
                return None
            base = Path(os.path.abspath(importer.path)).parent
            if package_of:
                if Path(importer.path).name != "__init__.py":
                    return None
                level = 1
            for _ in range(level - 1):
                base = base.parent
            return self._file_for(base, parts)
        for root in self._search_roots(importer):
            hit = self._file_for(root, parts)
            if hit is not None:
                return hit
        return None

    def _file_for(self, base: Path, parts: list[str]):
        target = base.joinpath(*parts) if parts else base
        for cand in (target.with_suffix(".py") if parts else None, target / "__init__.py"):
            if cand is not None and cand.is_file():
                return self.info(str(cand))
        return None
