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

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


__all__ = ["DEFAULT_MAX_IMPORTERS", "Importer", "KINDS", "MAX_FILES", "ScanState", "chosen_importers", "imports_of", "importers", "kind_of", "ranked_importers", "search_roots"]

MAX_FILES = 20000  # files scanned at most; beyond, importers are not followed (the caller warns)
DEFAULT_MAX_IMPORTERS = 2  # importers analysed at most (config ``max-importers``), most relevant first
MAX_SIZE = 2_000_000  # a larger file is not scanned (the analysis does not import it either)

# what an importer is, most useful first: a file that declares a model's input, a test pytest
# collects, a script, a module of the library (its models run with their defaults only)
KINDS = ("declares a model", "test", "script", "module")
_PRAGMA = re.compile(rb"#[ \t]*convlint:[ \t]*(?:input|init)\b")
_TEST_FILE = re.compile(r"(?:test_.*|.*_test)\.pyi?$")
_MAIN = re.compile(rb"""__name__[ \t]*==[ \t]*["']__main__["']""")
_TOP_OPTIONS = re.compile(rb"^[A-Za-z_][^\n#]*\.parse(?:_known)?_args\(", re.M)  # a script without a __main__ guard: ``opt = parser.parse_args()``

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


def kind_of(path: str, data: bytes) -> int:
    """What a file is as an importer (an index in :data:`KINDS`), from its name and raw bytes. Each
    pattern is tried only where a literal it needs occurs (``bytes`` searches; the regular
    expressions scan a file several times slower, and most files of a project hold none)."""
    if b"convlint" in data and _PRAGMA.search(data):
        return 0
    if _TEST_FILE.match(os.path.basename(path)) and b"def test" in data:
        return 1
    if (b"__main__" in data and _MAIN.search(data)) or (b"_args(" in data and _TOP_OPTIONS.search(data)):
        return 2
    return 3


class ScanState:
    """What a scan read, kept between runs (in the cache, :meth:`to_json`/:meth:`from_json`): for
    each file, its ``(size, mtime_ns)`` with its imports, kind and prefilter verdict — a file whose
    size and modification time are unchanged is not read again — and the reverse import graph with
    the digest of every file's imports it was built from. A state that does not validate is
    dropped whole (:meth:`from_json` returns None).

    ``changed``: something the scan depends on changed, the state must be stored again.
    ``restamped``: files read again that turned out to import, and be, what they were (an edit
    inside a model): storing only their new times is not worth rewriting the state every run."""

    RESTAMP_LIMIT = 32  # files read again for nothing, per run, before the state is stored anyway

    def __init__(self, root: Path):
        self.root = os.path.normpath(root)
        self.files: dict[str, tuple] = {}
        self.graph_key: str | None = None
        self.reverse: dict[str, set[str]] | None = None
        self.changed = False
        self.restamped = 0

    @property
    def worth_storing(self) -> bool:
        return self.changed or self.restamped > self.RESTAMP_LIMIT

    def to_json(self) -> dict:
        """Each path once (``paths``) and each import once (``imports``: a project's files import
        the same few modules); files and graph edges name them by their index there."""
        names = set(self.files)
        if self.reverse is not None:
            for k, v in self.reverse.items():
                names.add(k)
                names.update(v)
        order = sorted(names)
        number = {f: i for i, f in enumerate(order)}
        table: dict[tuple, int] = {}
        files = []
        for f, v in sorted(self.files.items()):
            files.append([number[f], *v[0], [table.setdefault(tuple(e), len(table)) for e in v[1]], v[2], v[3]])
        return {
            "paths": [self._rel(f) for f in order],
            "imports": [list(e) for e in table],
            "files": files,
            "graph_key": self.graph_key,
            "reverse": [[number[k], sorted(number[x] for x in v)] for k, v in sorted(self.reverse.items())] if self.reverse is not None else None,
        }

    @classmethod
    def from_json(cls, root: Path, data) -> ScanState | None:
        state = cls(root)
        try:
            if not (type(data["paths"]) is list and type(data["imports"]) is list and type(data["files"]) is list
                    and type(data["reverse"]) in (list, type(None))):
                return None
            paths = [state._abs(f) for f in data["paths"]]
            count = len(paths)
            table = [(level, dotted, name) for level, dotted, name in data["imports"]]
            if not all(type(level) is int and type(dotted) is str and (name is None or type(name) is str) for level, dotted, name in table):
                return None
            files = {}
            for i, size, mtime, imports, kind, admitted in data["files"]:
                if not (type(i) is int and 0 <= i < count and type(size) is int and type(mtime) is int
                        and type(kind) is int and 0 <= kind < len(KINDS) and (admitted is None or type(admitted) is bool) and type(imports) is list):
                    return None
                # an index past the end (or not an int) raises IndexError/TypeError: dropped whole
                if imports and min(imports) < 0:
                    return None
                files[paths[i]] = ((size, mtime), [table[x] for x in imports], kind, admitted)
            key = data["graph_key"]
            reverse = data["reverse"]
            if reverse is not None:
                if type(key) is not str:
                    return None
                # an index past the end (or not an int) raises IndexError/TypeError: dropped whole
                if any(k < 0 or (v and min(v) < 0) for k, v in reverse):
                    return None
                reverse = {paths[k]: {paths[x] for x in v} for k, v in reverse}
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None
        state.files, state.graph_key, state.reverse = files, key if reverse is not None else None, reverse
        return state

    def _rel(self, f: str) -> str:
        prefix = self.root + os.sep
        rel = f[len(prefix):] if f.startswith(prefix) else os.path.relpath(f, self.root)
        return rel.replace(os.sep, "/") if os.sep != "/" else rel

    def _abs(self, f) -> str:
        if type(f) is not str or f.startswith("/") or ".." in f.split("/"):
            raise ValueError("not a path inside the project")
        return os.path.normpath(os.path.join(self.root, f))


_UNSEEN = object()


class _Index:
    """The project's files, their imports, and the resolution of an import to the file that
    defines what it imports (re-exports in a package's ``__init__.py`` are followed to the module
    that defines the name, so that importing one model from a package does not make a file an
    importer of every module the package re-exports). Paths are plain strings (pathlib costs ten
    times more here); every resolution is memoised."""

    def __init__(self, files, root: Path, state: ScanState | None = None, *, verdicts: bool = False):
        self.root = Path(root)
        self.state = state
        self.verdicts = verdicts  # the prefilter's verdict on every file as it is read (else: :meth:`admits`)
        self.files = {os.path.normpath(f) for f in files}
        self.heads = set()  # a top-level name that may be the project's
        for f in self.files:
            for part in f.split(os.sep):
                self.heads.add(part[:-3] if part.endswith(".py") else part)
        self._imports: dict[str, list] = {}
        self.kind: dict[str, int] = {}  # index in KINDS
        self.admitted: dict[str, bool | None] = {}  # passes the conv prefilter, or is a script (KINDS[2]); None: not asked yet (:meth:`admits`)
        self.reverse: dict[str, set[str]] = {}  # file -> the files that import it directly
        self._modules: dict[tuple, str | None] = {}
        self._defs: dict[tuple, frozenset] = {}
        self._by_name: dict[str, dict] = {}
        self._roots: dict[str, list[str]] = {}
        self._dirs: dict[str, str] = {}  # file -> its folder
        self._targets: dict[tuple, frozenset] = {}
        self._following = 0  # re-exports being followed (:meth:`_defining`)
        self._found: dict[tuple, str | None] = {}  # (folder, *names) -> the module file there

    def imports(self, f: str) -> list:
        if f not in self._imports:
            from convlint.source.files import read_regular
            from convlint.source.prefilter import may_contain_conv

            state = self.state
            stamp = None
            if state is not None:
                try:
                    st = os.stat(f)
                    stamp = (st.st_size, st.st_mtime_ns)
                except OSError:
                    stamp = None
                    state.changed = True  # read below without a stamp: what it imports is not the state's
                known = state.files.get(f) if stamp is not None else None
                if known is not None and known[0] == stamp:  # what an earlier run read of it
                    _stamp, self._imports[f], self.kind[f], self.admitted[f] = known
                    return self._imports[f]
            try:  # regular files only, at most MAX_SIZE bytes (a link to /dev/zero, a FIFO: nothing)
                data = read_regular(f, MAX_SIZE)
            except OSError:
                data = b""
            self._imports[f] = imports_of(data.decode("utf-8", errors="replace"))
            self.kind[f] = kind_of(f, data)
            # a script is admitted without the prefilter: its ``__main__`` block or top-level
            # ``parser.parse_args()`` builds models from the file it imports and applies them to
            # data, which convlint checks on a symbolic input — without naming a conv itself.
            # Any other file's verdict is computed when the ranking reaches it (:meth:`admits`):
            # a hook's scan needs it for a handful of the project's files
            if self.kind[f] == 2:
                self.admitted[f] = True
            elif self.verdicts or (state is not None and known is not None and known[3] is not None):
                self.admitted[f] = may_contain_conv(data)  # asked for, or the state knew it: kept up to date
            else:
                self.admitted[f] = None
            if state is not None and stamp is not None:
                entry = (stamp, self._imports[f], self.kind[f], self.admitted[f])
                if known is not None and known[1:] == entry[1:]:
                    state.restamped += 1  # an edit that changed none of it
                else:
                    state.changed = True
                state.files[f] = entry
        return self._imports[f]

    def admits(self, f: str) -> bool:
        """The prefilter's verdict on ``f`` (or True for a script), computed on first use: a file
        it drops is never analysed."""
        verdict = self.admitted.get(f)
        if verdict is None:
            from convlint.source.files import read_regular
            from convlint.source.prefilter import may_contain_conv

            self.imports(f)
            verdict = self.admitted.get(f)
            if verdict is None:
                try:
                    data = read_regular(f, MAX_SIZE)
                except OSError:
                    data = b""
                verdict = self.admitted[f] = may_contain_conv(data)
                known = self.state.files.get(f) if self.state is not None else None
                if known is not None and known[3] is None:
                    self.state.files[f] = (*known[:3], verdict)
                    self.state.changed = True
        return verdict

    def _file_for(self, base: str, parts: list[str]) -> str | None:
        key = (base, *parts)
        hit = self._found.get(key, _UNSEEN)
        if hit is _UNSEEN:
            sep = os.sep
            target = (base + ("" if base.endswith(sep) else sep) + sep.join(parts)) if parts else base  # os.path.join, for names
            if parts and target + ".py" in self.files:
                hit = target + ".py"
            else:
                init = target + ("" if target.endswith(sep) else sep) + "__init__.py"
                hit = init if init in self.files else None
            self._found[key] = hit
        return hit

    def _dir(self, importer: str) -> str:
        d = self._dirs.get(importer)
        if d is None:
            d = self._dirs[importer] = os.path.dirname(importer)
        return d

    def module(self, importer: str, level: int, dotted: str) -> str | None:
        d = self._dir(importer)
        key = (d, level, dotted)
        if key not in self._modules:
            parts = [p for p in dotted.split(".") if p]
            if level == 0 and (not parts or parts[0] not in self.heads):
                self._modules[key] = None  # torch, numpy: not a project module
                return None
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
        """The files an import statement's names are defined in (the same for every file of a
        folder: memoised by folder)."""
        key = (self._dir(importer), level, dotted, name)
        hit = self._targets.get(key)
        if hit is None:
            hit = self._find_targets(importer, level, dotted, name)
            if not self._following:  # inside a cycle of re-exports an answer may be partial
                self._targets[key] = hit
        return hit

    def _find_targets(self, importer: str, level: int, dotted: str, name: str | None) -> frozenset:
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
        by_name = self._by_name.get(mod)
        if by_name is None:  # the module's imports by imported name (a package's __init__ re-exports hundreds)
            by_name = self._by_name[mod] = {}
            for i, (level, dotted, n) in enumerate(self.imports(mod)):
                by_name.setdefault(n, []).append((i, level, dotted))
        found = by_name.get(name, [])
        if is_init and "*" in by_name:
            found = sorted(found + by_name["*"])  # in the order of the module's statements
        self._following += 1
        try:
            for _i, level, dotted in found:
                out |= {t for t in self.targets(mod, level, dotted, name) if t != mod}
        finally:
            self._following -= 1
        self._defs[key] = frozenset(out or (mod,))
        return self._defs[key]


def _graph(targets: Iterable[Path], files: Iterable[Path], root: Path, state: ScanState | None = None, verdicts: bool = False) -> tuple[_Index, list[tuple[str, int]]]:
    """The index and the files that import one of ``targets`` with their number of import hops,
    nearest first (then by path). ``verdicts``: run the prefilter on every file as it is read."""
    index = _Index(files, Path(os.path.normpath(root)), state, verdicts=verdicts)
    ordered = sorted(index.files)
    for f in ordered:
        index.imports(f)
    # the resolution depends on which files exist and on what each imports, nothing else: a
    # state whose files all read as they were (nothing changed, nothing gone) keeps its graph
    # without hashing every file's imports again
    gone = [f for f in state.files if f not in index.files] if state is not None else []
    if state is not None and not state.changed and not gone and state.graph_key is not None and state.reverse is not None:
        digest = state.graph_key
    else:
        digest = hashlib.sha256(repr([(f, index.imports(f)) for f in ordered]).encode("utf-8", "surrogatepass")).hexdigest()
    if state is not None and state.graph_key == digest and state.reverse is not None:
        reverse = state.reverse
    else:
        reverse = {}
        for f in ordered:
            for level, dotted, name in index.imports(f):
                for hit in index.targets(f, level, dotted, name):
                    if hit != f:
                        reverse.setdefault(hit, set()).add(f)
        if state is not None:
            state.graph_key, state.reverse, state.changed = digest, reverse, True
    index.reverse = reverse
    for f in gone:  # forget the files that are gone
        del state.files[f]
        state.changed = True
    starts = sorted({os.path.normpath(t) for t in targets})
    seen = set(starts)
    out: list[tuple[str, int]] = []
    frontier = starts
    hops = 0
    while frontier:
        hops += 1
        nxt = set()
        for t in frontier:
            for imp in reverse.get(t, ()):
                if imp not in seen:
                    seen.add(imp)
                    nxt.add(imp)
        frontier = sorted(nxt)
        out += [(f, hops) for f in frontier]
    return index, out


def importers(targets: Iterable[Path], files: Iterable[Path], root: Path) -> list[Path]:
    """The files among ``files`` whose code may run one of ``targets``: they import a name defined
    there, directly or through other files of ``files``. Nearest first (by the number of import
    hops, then by path); the targets themselves are not in the result."""
    return [Path(f) for f, _hops in _graph(targets, files, root)[1]]


@dataclass(frozen=True)
class Importer:
    """A file that imports a checked file, directly or through others (:func:`ranked_importers`)."""

    path: Path
    hops: int  # import statements between it and the nearest target (1: it imports a target)
    kind: int  # index in KINDS
    admitted: bool  # it passes the conv prefilter, or is a script (a file that is neither is never analysed)


def ranked_importers(targets: Iterable[Path], files: Iterable[Path], root: Path, state: ScanState | None = None) -> list[Importer]:
    """:func:`importers`, most useful to analyse first: those the prefilter admits, then the others
    (each group ranked by :func:`_ranked`). The prefilter runs on every importer; a hook's check
    asks :func:`chosen_importers` instead, which runs it on the few it takes."""
    index, found = _graph(targets, files, root, state, verdicts=True)
    return list(_ranked(index, targets, found, True)) + list(_ranked(index, targets, found, False))


def chosen_importers(targets: Iterable[Path], files: Iterable[Path], root: Path, state: ScanState | None = None, *,
                     limit: int, skip: Iterable[Path] = (), first: Iterable[Path] = ()) -> tuple[list[Importer], int, bool]:
    """The importers a check of ``targets`` analyses: those of ``first`` that import a target (a
    model the configuration declares; the prefilter does not decide for them), then the highest
    ranked of those the prefilter admits (:func:`ranked_importers`' order), ``limit`` in all,
    leaving out ``skip``. Returns them, the number of files that import a target, and whether an
    admitted importer was left out for the limit. The prefilter runs only on the importers the
    ranking reaches."""
    index, found = _graph(targets, files, root, state)
    skip = {Path(os.path.normpath(p)) for p in skip}
    first = {Path(os.path.normpath(p)) for p in first}
    declared = [(f, h) for f, h in found if Path(f) in first and Path(f) not in skip]
    chosen = [*_ranked(index, targets, declared, True), *_ranked(index, targets, declared, False)]
    more = len(chosen) > limit
    chosen = chosen[:limit]
    if not more:
        for imp in _ranked(index, targets, found, True):
            if imp.path in skip or imp.path in first:
                continue
            if len(chosen) == limit:
                more = True
                break
            chosen.append(imp)
    return chosen, len(found), more


def _ranked(index: _Index, targets: Iterable[Path], found: list[tuple[str, int]], admitted: bool):
    """The importers ``found`` whose prefilter verdict is ``admitted``, most useful to analyse
    first, computing the verdict only as far as the iteration goes.

    An importer adds its entries to a target's check, and they are of two sorts, taken in turn
    (one of each, then the next of each): *declarations* — a file that declares a model's input
    with a pragma, a test that builds the model with a small configuration, a script's
    ``__main__`` (in that order of :data:`KINDS`) — and *library modules*, whose models compose the
    target's blocks and run with their defaults (the autoencoder built from ``vae.py``'s
    ``Encoder``). Declarations: a file named after a target (``test_unet.py`` for ``unet.py``)
    first, then fewer hops, then the nearest in the folder tree (the most folder names in common
    with a target's folder), then the path. Modules: fewer hops, the nearest, then those imported
    by more files of the project (the package's main models), then the path."""
    targets = [Path(os.path.normpath(t)) for t in targets]
    stems = {t.stem for t in targets if t.stem != "__init__"}
    dirs = [os.path.dirname(str(t)).split(os.sep) for t in targets]
    fan_in = {f: len(index.reverse.get(f, ())) for f, _hops in found}  # files importing it directly

    def named_after(f: str) -> bool:
        stem = os.path.splitext(os.path.basename(f))[0]
        return any(stem == s or stem.endswith("_" + s) or stem.startswith(s + "_test") for s in stems)

    nearness: dict[str, int] = {}

    def near(f: str) -> int:  # folder names in common: tests/models/vae/ mirrors src/pkg/models/vae/
        n = nearness.get(f)
        if n is None:
            parts = set(os.path.dirname(f).split(os.sep))
            n = nearness[f] = max((len(parts.intersection(d)) for d in dirs), default=0)
        return n

    def kind(f: str) -> int:
        return index.kind.get(f, 3)

    entries = sorted((fh for fh in found if kind(fh[0]) < 3), key=lambda fh: (kind(fh[0]), not named_after(fh[0]), fh[1], -near(fh[0]), fh[0]))
    modules = sorted((fh for fh in found if kind(fh[0]) == 3), key=lambda fh: (fh[1], -near(fh[0]), -fan_in[fh[0]], fh[0]))

    def verdicts(part):
        for f, hops in part:
            verdict = index.admits(f)
            if verdict is admitted:
                yield Importer(Path(f), hops, kind(f), verdict)

    sorts = [verdicts(entries), verdicts(modules)]
    while sorts:  # one of each sort in turn
        for it in list(sorts):
            imp = next(it, None)
            if imp is None:
                sorts.remove(it)
            else:
                yield imp
