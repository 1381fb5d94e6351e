"""The project: parsing files once per run, and resolving the repository's own imports to files.

A :class:`ParsedModule` (tree, text, hash, positions) is shared by every analysis of one run; a
:class:`ModuleInfo` is one analysis' view of it (its own global scope), so that one file's
interpretation never leaks state into another's.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from convlint.source.files import dependency_hash
from convlint.source.importers import search_roots
from convlint.source.index import ModuleIndex, build_index, index_from_data, line_starts, reached_digest
from convlint.source.prescreen import parse_python, prescreen, statement_depth_error


class ParsedModule:
    """One source file, parsed as little as the analysis needs.

    Python's :mod:`ast` parses the whole file first (cheap, and it rejects what CPython rejects:
    ``error`` is then set). :attr:`index` describes the top-level statements from that tree.
    LibCST — whose nodes the interpreter evaluates and whose positions findings carry — parses
    either the whole file (:attr:`tree`, for the files being reported on: comments, pragmas, fixes)
    or one top-level statement at a time (:meth:`statement`, for imported modules, of which an
    analysis usually reaches a few bindings). :meth:`position` maps a node of either back to the
    file's lines and columns.
    """

    __slots__ = ("path", "name", "text", "sha", "error", "_ast", "_index", "_tree", "_tree_done", "_positions", "_segments", "_line_starts", "_skeletons", "_store", "_stored", "_fresh", "_screened", "_tree_error", "_chunks_safe")

    def __init__(self, path: str, name: str, text: str, store=None):
        self.path = path
        self.name = name
        self.text = text
        self.sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self.error: Exception | None = None
        self._ast = None
        self._index = None
        self._tree: cst.Module | None = None
        self._tree_done = False
        self._positions = None
        self._segments: dict = {}  # statement index (or a function's key) -> [LibCST module, line offset, positions or None]
        self._line_starts: list[int] | None = None
        # skeleton ``def`` node -> (its full node once parsed, or None; (def_line, end_line); method?)
        self._skeletons: dict[int, list] = {}
        # the parse store (convlint.cache.ParseStore): what earlier runs parsed of this text
        self._store = store
        self._stored: dict = {}  # segment key -> (kind, LibCST module), from the store
        self._fresh: dict = {}  # segment key -> (kind, LibCST module), parsed in this run
        self._screened = False  # the whole text went through :func:`prescreen`
        self._tree_error: Exception | None = None  # why the whole file cannot be given to LibCST
        self._chunks_safe = False  # the whole text passed :func:`prescreen`: so does every part of it
        if store is not None:
            data = store.get(self.sha)
            if data is not None:
                try:
                    self._index = index_from_data(data["index"])
                    self._stored = data["segments"]
                    return  # it passed the prescreen when it was stored
                except Exception:
                    self._index = None
                    self._stored = {}
        try:
            self._ast = parse_python(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # ValueError: NUL bytes
            self._ast = None
        # what CPython rejects: a CVL000 with the reason. What LibCST cannot parse safely (deep
        # nesting, huge chains) is screened where LibCST would see it: the whole file before
        # :attr:`tree`, a statement before :meth:`statement` parses it (an imported module is
        # usually read a few statements at a time); the index needs the statements' nesting only.
        if self._ast is None:
            self.error = prescreen(text)
            self._screened = True
        else:
            self.error = statement_depth_error(self._ast)
            if self.error is not None:
                self._ast = None
                self._screened = True
            else:
                # screened whole while its AST is at hand (a walk costs a fraction of parsing
                # the statements again one by one): the parts of a text that passes pass too
                self._screened = True
                self._tree_error = prescreen(text, tree=self._ast)
                self._chunks_safe = self._tree_error is None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def index(self) -> ModuleIndex | None:
        if self._index is None and self._ast is not None:
            self._index = build_index(self._ast)
            self._ast = None  # the index is all that is read from it
        return self._index

    @property
    def tree(self) -> cst.Module | None:
        """The whole file as one LibCST tree (parsed on first use); None when it does not parse."""
        if not self._tree_done:
            self._tree_done = True
            if not self._screened:
                self._screened = True
                self._tree_error = prescreen(self.text, tree=self._ast)
            if self.error is None and self._tree_error is None:
                try:
                    self._tree = cst.parse_module(self.text)
                except Exception as e:  # libcst's ParserSyntaxError, or a recursion error on absurd input
                    self._tree_error = e
        return self._tree

    @property
    def tree_error(self) -> Exception | None:
        """Why :attr:`tree` is None: what CPython rejects, or what LibCST must not or cannot parse
        (an imported module with such a statement stays importable: its other statements are read)."""
        return self.error or self._tree_error

    def statement(self, i: int):
        """The LibCST node of top-level statement ``i`` of :attr:`index`, parsed on its own.

        A ``def`` statement, or a class's methods, come back as *skeletons*: each function's body
        (the lines below its header) is replaced by ``...`` before LibCST sees it, since an
        analysis calls few of the functions it looks up. :meth:`full_definition` parses the body
        of a skeleton when the function is first used.
        """
        if self._tree is not None and len(self._tree.body) == len(self.index.statements):
            return self._tree.body[i]
        seg = self._segments.get(i)
        if seg is None:
            info = self.index.statements[i]
            bodies = self.index.bodies.get(i, ())
            module = None
            stored = self._stored_segment(i)
            if stored is not None:
                kind, module = stored
                if kind == "skeleton" and not self._register_skeletons(module, bodies):
                    module = None
            if module is None:
                lo, hi = self._span(info.first_line, info.last_line)
                kind = "skeleton"
                chunk = self._skeleton_text(lo, hi, info.first_line, bodies) if bodies else None
                module = _parse_chunk(chunk, self._chunks_safe) if chunk is not None else None
                if module is not None and not self._register_skeletons(module, bodies):
                    module = None
                if module is None:
                    kind = "whole"
                    module = _parse_chunk(self.text[lo:hi], self._chunks_safe)
                if module is not None:
                    self._fresh[i] = (kind, module)
            seg = self._segments[i] = [module, info.first_line - 1, None]
        module = seg[0]
        return module.body[0] if module is not None and module.body else None

    def _span(self, first_line: int, last_line: int) -> tuple[int, int]:
        starts = self._starts()
        lo = starts[first_line - 1]
        hi = starts[last_line] if last_line < len(starts) else len(self.text)
        return lo, hi

    def _skeleton_text(self, lo: int, hi: int, first_line: int, bodies) -> str | None:
        """The statement's text with each body of ``bodies`` replaced by ``...`` and each header
        whose defaults are literals by ``def name(*_, **__):`` (same lines, same columns up to
        the name): the parameters are read from the complete definition, parsed when the function
        is first used (:meth:`full_definition`)."""
        lines = self.text[lo:hi].splitlines(keepends=True)
        for _, body_line, body_col, end_line, head_line in bodies:
            k = body_line - first_line
            if k <= 0 or end_line - first_line >= len(lines):
                return None
            h = head_line - first_line
            if 0 <= h < k:
                m = _DEF_HEAD.match(lines[h])
                if m is not None:
                    head = lines[h]
                    lines[h] = m.group(0) + "(*_, **__):" + (head[len(head.rstrip("\r\n")):] or "\n")
                    for j in range(h + 1, k):
                        rest = lines[j]
                        lines[j] = rest[len(rest.rstrip("\r\n")):] or "\n"
            line = lines[k]
            indent = line[:body_col]
            if indent.strip() or len(indent) != body_col:  # the body does not start its line
                return None
            ending = line[len(line.rstrip("\r\n")):] or "\n"
            lines[k] = indent + "..." + ending
            for j in range(k + 1, end_line - first_line + 1):
                rest = lines[j]
                lines[j] = rest[len(rest.rstrip("\r\n")):] or "\n"
        return "".join(lines)

    def _register_skeletons(self, module, bodies) -> bool:
        """Remember the skeleton ``def`` nodes of a parsed statement, matched in order to
        ``bodies``; False if they do not match (then the statement is parsed whole instead)."""
        if not module.body:
            return False
        top = module.body[0]
        if isinstance(top, cst.FunctionDef):
            defs, method = [top], False
        elif isinstance(top, cst.ClassDef) and isinstance(top.body, cst.IndentedBlock):
            defs, method = [s for s in top.body.body if isinstance(s, cst.FunctionDef)], True
        else:
            return False
        if len(defs) != len(bodies):
            return False
        for node, (def_line, _, _, end_line, head_line) in zip(defs, bodies):
            params = node.params
            elided = bool(head_line) and not params.params and isinstance(params.star_arg, cst.Param) and params.star_arg.name.value == "_"
            self._skeletons[id(node)] = [node, None, (def_line, end_line), method, elided]
        return True

    def header_elided(self, node) -> bool:
        """Is ``node`` a skeleton whose parameters :meth:`statement` left out too?"""
        entry = self._skeletons.get(id(node))
        return entry is not None and entry[0] is node and entry[4]

    def is_skeleton(self, node) -> bool:
        """Is ``node`` a function whose body :meth:`statement` left out?"""
        entry = self._skeletons.get(id(node))
        return entry is not None and entry[0] is node

    def full_definition(self, node):
        """The complete ``FunctionDef`` of a skeleton (parsed once; positions map to the file);
        ``node`` itself when it is not a skeleton, or when its body cannot be parsed."""
        entry = self._skeletons.get(id(node))
        if entry is None or entry[0] is not node:
            return node
        if entry[1] is None:
            (def_line, end_line), method = entry[2], entry[3]
            key = ("def", def_line)
            stored = self._stored_segment(key)
            module = stored[1] if stored is not None else None
            if module is None:
                lo, hi = self._span(def_line, end_line)
                chunk = self.text[lo:hi]
                # an indented method parses inside a class of its own, one line up
                module = _parse_chunk("class _:\n" + chunk if method else chunk, self._chunks_safe)
                if module is not None:
                    self._fresh[key] = ("def", module)
            try:
                full = (module.body[0].body.body[0] if method else module.body[0]) if module is not None else None
            except (AttributeError, IndexError):
                full = None
            if not isinstance(full, cst.FunctionDef) or full.name.value != node.name.value:
                return node
            self._segments[key] = [module, def_line - 2 if method else def_line - 1, None]
            entry[1] = full
        return entry[1]

    def _stored_segment(self, key):
        blob = self._stored.get(key)
        return self._store.segment(blob) if blob is not None else None

    def release_tree(self) -> None:
        """Forget the whole-file LibCST tree (and its positions) once the file's own analysis is
        done: a run over thousands of files would otherwise keep every one of them. Should the
        module be imported later, :meth:`statement` parses what is reached, as for any other."""
        self.index  # noqa: B018 - built now if it was not, so that the ast tree can go too
        self._ast = None
        self._tree = None
        self._tree_done = False
        self._positions = None

    def save(self) -> None:
        """Give what this run parsed to the parse store (once), with what it held already."""
        if self._store is None or not self._fresh or self.error is not None or self.index is None:
            return
        from convlint.source.index import index_to_data

        segments = {**self._stored, **self._fresh}
        self._store.put(self.sha, index_to_data(self.index), segments)
        self._stored = segments
        self._fresh = {}

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            self._line_starts = line_starts(self.text)
        return self._line_starts

    def digest(self, reached) -> str | None:
        """:func:`~convlint.source.index.reached_digest` of this text: what an analysis that ran the
        top-level statements ``reached`` read of it (None if the file has no index)."""
        index = self.index
        return reached_digest(self.text, index, reached, self._starts()) if index is not None else None

    def position(self, node: cst.CSTNode):
        """``(line, column, end_line, end_column)``, 1-based columns, end exclusive; None if unknown."""
        if self._tree is not None:
            if self._positions is None:
                self._positions = _resolve_positions(self._tree)
            r = self._positions.get(node)
            if r is not None:
                return (r.start.line, r.start.column + 1, r.end.line, r.end.column + 1)
        for seg in self._segments.values():
            if seg[0] is None:
                continue
            if seg[2] is None:
                seg[2] = _resolve_positions(seg[0])
            r = seg[2].get(node)
            if r is not None:
                off = seg[1]
                return (r.start.line + off, r.start.column + 1, r.end.line + off, r.end.column + 1)
        return None


_DEF_HEAD = re.compile(r"[ \t]*(?:async[ \t]+)?def[ \t]+[^\W\d]\w*(?=[ \t]*\()")  # up to the function's name


def _parse_chunk(chunk: str, screened: bool = False):
    """A statement's text as a LibCST module, or None if LibCST cannot parse it or must not see it
    (:func:`prescreen`: a chunk is screened as a file would be, unless ``screened``: it is part of
    a text that passed — the bounds only grow with the text, and the ``class _:`` a method is
    parsed in adds no depth to the class it has in the file)."""
    if not chunk.endswith(("\n", "\r")):
        chunk += "\n"
    if not screened and prescreen(chunk) is not None:
        return None
    try:
        return cst.parse_module(chunk)
    except Exception:
        return None


def _resolve_positions(tree):
    try:
        return MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    except Exception:
        return {}


class NamespacePackage:
    """A directory imported as a package without an ``__init__.py`` (PEP 420): its attributes are
    its submodules and subpackages."""

    __slots__ = ("path", "name")

    def __init__(self, path: Path, name: str):
        self.path = path
        self.name = name

    def __repr__(self) -> str:
        return f"<namespace package {self.name}>"


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


def _has_python(directory: Path) -> bool:
    """A directory that may be a namespace package: it holds Python files or subdirectories."""
    try:
        return any(p.suffix == ".py" or (p.is_dir() and not p.name.startswith(".")) for p in directory.iterdir())
    except OSError:
        return False


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
        self._deps: dict[str, str] | None = None  # absolute path -> display path, of the modules read
        self._missing: set[str] | None = None  # absolute paths looked for as modules, not found
        self._unusable: set[str] | None = None  # module files found but not read (see :meth:`parsed`)
        self._main: str | None = None
        self.store = None  # a convlint.cache.ParseStore, when the run keeps parses across runs

    # --------------------------------------------------------------- sessions (one per analysis)
    def begin(self, main_path: str) -> None:
        self._session = {}
        self._deps = {}
        self._missing = set()
        self._unusable = set()
        self._main = os.path.abspath(main_path)

    def end(self) -> dict[str, dict]:
        """Close the analysis' session: the project modules it read, by display path, each as
        ``{"sha256": the file's hash, "reached": the top-level statements it ran, "digest":
        reached_digest}``, the files it looked for as modules and did not find (None), and the
        module files it found but could not read (their whole-file hash) — the result cache's
        dependencies (``convlint.cache``)."""
        deps: dict[str, dict] = {}
        session = self._session or {}
        for ap, shown in (self._deps or {}).items():
            mi = session.get(ap)
            if mi is None:
                continue
            scope = mi.scope
            index = mi.parsed.index
            if scope is None or index is None:
                reached = []
            else:  # an imported module's scope runs statements one by one; any other ran them all
                done = getattr(scope, "done", None)
                reached = sorted(done) if done is not None else list(range(len(index.statements)))
            deps[shown] = {"sha256": mi.parsed.sha, "reached": reached, "digest": mi.parsed.digest(reached)}
        for ap in self._missing or ():
            shown = display_path(ap)
            if shown not in deps:
                deps[shown] = None
        for ap in self._unusable or ():  # too big, not UTF-8, a syntax error: fixed, it is read
            shown = display_path(ap)
            if shown not in deps:
                deps[shown] = dependency_hash(ap)
        self._session = None
        self._deps = None
        self._missing = None
        self._unusable = None
        return deps

    def parse_text(self, path: str, text: str) -> ParsedModule:
        ap = os.path.abspath(path)
        cached = self._parsed.get(ap)
        if cached is not None and cached.text == text:
            return cached
        pm = ParsedModule(display_path(ap), self.module_name(ap), text, store=self.store)
        self._parsed[ap] = pm
        return pm

    def with_text(self, path: str, text: str) -> Project:
        """A project that reads ``path`` as ``text`` and every other file as this one does: the
        parsed modules are shared (their trees are never changed), so a trial of a fix parses only
        the edited file again. It has no session of its own yet (:meth:`begin`)."""
        other = Project(self.root, config=self.config)
        other.store = self.store
        ap = os.path.abspath(path)
        other._parsed = {k: v for k, v in self._parsed.items() if k != ap}
        other.parse_text(ap, text)
        return other

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
        pm = ParsedModule(display_path(ap), self.module_name(ap), text, store=self.store)
        if not pm.ok:
            pm = None
        self._parsed[ap] = pm
        return pm

    def release(self, path: str) -> None:
        """The analysis of ``path`` is over: its whole-file tree is no longer needed."""
        pm = self._parsed.get(os.path.abspath(path))
        if pm is not None:
            pm.release_tree()

    def save_parses(self) -> None:
        """Write what this run parsed to the parse store (nothing without one)."""
        if self.store is None:
            return
        for pm in self._parsed.values():
            if pm is not None:
                pm.save()

    def info(self, path: str) -> ModuleInfo | None:
        ap = os.path.abspath(path)
        if self._session is not None and ap in self._session:
            return self._session[ap]
        pm = self.parsed(ap)
        if pm is None or not pm.ok:
            if self._unusable is not None and ap != self._main:
                self._unusable.add(ap)
            return None
        mi = ModuleInfo(pm, main=(ap == self._main))
        if self._session is not None:
            self._session[ap] = mi
            if ap != self._main and self._deps is not None:
                self._deps[ap] = display_path(ap)
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
        return search_roots(importer.path if importer is not None else None, self.root)

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
        cands = (target.with_suffix(".py"), target / "__init__.py") if parts else (target / "__init__.py",)
        for cand in cands:
            if cand.is_file():
                return self.info(str(cand))
        if self._missing is not None:  # should one of them appear, this import means another module
            self._missing.update(os.path.abspath(c) for c in cands)
        if parts and target.is_dir() and _has_python(target):
            return NamespacePackage(target, ".".join(parts))
        return None

    def submodule(self, package: NamespacePackage, name: str):
        """``package.name`` for a namespace package: a module, a package, or None."""
        return self._file_for(package.path, [name])
