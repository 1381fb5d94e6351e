"""Which files to check: paths from the command line, walked, filtered, sorted.

- Directories are walked for ``.py`` and ``.pyi`` files; files named explicitly are taken whatever
  their suffix.
- ``.gitignore`` files are honoured: the ones in the walked tree (nested ones take precedence over
  their parents') and the ones of the directories above it up to the root of the git work tree
  (the directory holding ``.git``), plus ``.git/info/exclude``. The matcher is our own
  (:class:`IgnoreFile`): blank lines and ``#`` comments, ``\\`` escapes, ``!`` negation, ``*``,
  ``?``, ``[...]``, ``**`` (leading, trailing, middle), a trailing ``/`` for directories only, and a
  leading or middle ``/`` to anchor a pattern to the directory of its ``.gitignore``. As in git,
  a file inside an ignored directory cannot be re-included.
- Virtual environments are always skipped: any directory holding ``pyvenv.cfg``, and directories
  named as in :data:`ALWAYS_SKIP` (``.git``, ``.venv``, ``venv``, ``__pycache__``, ``build``, ...).
- ``exclude`` and ``extend-exclude`` globs from the configuration (both add to the built-in list):
  a glob without ``/`` matches a file or directory name anywhere, one with ``/`` a path relative
  to the configuration root; gitignore syntax otherwise.
- Paths named on the command line are always checked, unless ``force_exclude`` is set (as the
  pre-commit hook does): then the excludes and ``.gitignore`` apply to them as well, including
  through their parent directories.

The result is absolute paths, sorted and without duplicates.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

__all__ = [
    "ALWAYS_SKIP",
    "PY_SUFFIXES",
    "Discovery",
    "IgnoreFile",
    "Pattern",
    "compile_pattern",
    "discover",
]

PY_SUFFIXES = (".py", ".pyi")
MAX_IGNORE_FILE_SIZE = 4 * 1024 * 1024  # bytes: a larger .gitignore is not read

ALWAYS_SKIP = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        ".venv",
        "venv",
        ".env",
        "env",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".convlint_cache",
        ".eggs",
        ".ipynb_checkpoints",
        "node_modules",
        "build",
        "dist",
        "site-packages",
        "__pypackages__",
    }
)


# --------------------------------------------------------------------------- gitignore patterns


# A gitignore glob is matched without regular expressions: a regex for ``*a*a*a*…b`` backtracks
# for minutes on a long name. The glob is split at ``/`` into segment patterns and ``**``; each
# segment pattern is split at ``*`` into pieces of fixed length. A piece-and-star pattern matches
# by placing the first piece at the start, the last at the end and each middle piece at its
# leftmost fit: no backtracking, and matching ``*`` greedily this way is exact because every
# piece has a fixed length. The same algorithm, one level up, places groups of segment patterns
# between ``**``. Matching costs at most (name length) × (pattern length) character tests, and
# literal pieces are found with ``str.find``.

_STAR = object()  # ``*`` inside a segment
_ANY = object()  # ``?``
_GLOBSTAR = object()  # a ``**`` segment: zero or more path segments


class _Class:
    """A ``[...]`` bracket expression: matches one character (never ``/``)."""

    __slots__ = ("regex",)

    def __init__(self, body: str, negated: bool) -> None:
        body = body.replace("\\", "\\\\").replace("[", "\\[")
        self.regex = re.compile(("[^/" if negated else "[") + body + "]", re.DOTALL)

    def __call__(self, ch: str) -> bool:
        return ch != "/" and self.regex.fullmatch(ch) is not None


def _tokens(glob: str) -> list:
    """A glob as tokens: literal characters (str), ``_ANY``, ``_STAR``, ``_Class``, and ``"/"``."""
    out: list = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            at_start = i == 0 or glob[i - 1] == "/"
            at_end = j == n or glob[j] == "/"
            out.append(_GLOBSTAR if j - i >= 2 and at_start and at_end else _STAR)
            i = j
        elif c == "?":
            out.append(_ANY)
            i += 1
        elif c == "[":
            j = i + 1
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal "["
                out.append("[")
                i += 1
                continue
            body = glob[i + 1 : j]
            neg = body[:1] in ("!", "^")
            try:
                out.append(_Class(body[1:] if neg else body, neg))
            except re.error:
                raise ValueError(f"bad bracket expression in {glob!r}") from None
            i = j + 1
        elif c == "\\" and i + 1 < n:
            out.append(glob[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return out


class _Segment:
    """One path segment's pattern: pieces of single-character tokens separated by ``*``."""

    __slots__ = ("pieces", "starred", "literal", "width", "exact", "match")

    def __init__(self, tokens: list) -> None:
        pieces: list[list] = [[]]
        for t in tokens:
            if t is _STAR:
                if pieces[-1] or len(pieces) == 1:
                    pieces.append([])
                continue
            pieces[-1].append(t)
        self.starred = len(pieces) > 1
        self.pieces = [tuple(p) for p in pieces]
        # each piece as a plain string when it has no ``?`` or class (found with str.find)
        self.literal = ["".join(p) if all(type(t) is str for t in p) else None for p in self.pieces]
        self.width = sum(len(p) for p in self.pieces)
        # fast paths: a plain name is a string comparison; "*.ext" and "prefix*" are one test
        self.exact = self.literal[0] if not self.starred else None
        self.match = self._match
        if self.exact is not None:
            self.match = self.exact.__eq__
        elif len(self.pieces) == 2 and None not in self.literal:
            head, tail = self.literal
            width = self.width
            if not head:
                self.match = lambda s: s.endswith(tail)
            elif not tail:
                self.match = lambda s: s.startswith(head)
            else:
                self.match = lambda s: len(s) >= width and s.startswith(head) and s.endswith(tail)

    @staticmethod
    def _at(piece: tuple, lit: str | None, s: str, i: int) -> bool:
        if lit is not None:
            return s.startswith(lit, i)
        for k, t in enumerate(piece):
            ch = s[i + k]
            if type(t) is str:
                if ch != t:
                    return False
            elif t is _ANY:
                if ch == "/":
                    return False
            elif not t(ch):
                return False
        return True

    def _find(self, k: int, s: str, start: int, end: int) -> int:
        """Leftmost i in [start, end - len(piece)] where piece k fits, else -1."""
        piece, lit = self.pieces[k], self.literal[k]
        if lit is not None:
            return s.find(lit, start, end)
        for i in range(start, end - len(piece) + 1):
            if self._at(piece, None, s, i):
                return i
        return -1

    def _match(self, s: str) -> bool:
        pieces, lits = self.pieces, self.literal
        if not self.starred:
            return len(s) == len(pieces[0]) and self._at(pieces[0], lits[0], s, 0)
        if len(s) < self.width:
            return False
        first, last = pieces[0], pieces[-1]
        if not self._at(first, lits[0], s, 0) or not self._at(last, lits[-1], s, len(s) - len(last)):
            return False
        pos, end = len(first), len(s) - len(last)
        for k in range(1, len(pieces) - 1):
            i = self._find(k, s, pos, end)
            if i < 0:
                return False
            pos = i + len(pieces[k])
        return True


class _Glob:
    """A whole glob: groups of segment patterns separated by ``**``, matched like pieces."""

    __slots__ = ("groups", "starred", "min_parts", "match", "plain_name", "last_char")

    def __init__(self, tokens: list, unanchored: bool) -> None:
        segs: list = []
        cur: list = []
        for t in tokens:
            if t == "/" and type(t) is str:
                if cur:
                    segs.append(_Segment(cur))
                cur = []
            elif t is _GLOBSTAR:
                segs.append(_GLOBSTAR)
            else:
                cur.append(t)
        if cur:
            segs.append(_Segment(cur))
        if segs and segs[-1] is _GLOBSTAR:
            segs.append(_Segment([_STAR]))  # a trailing "**": everything below, not the folder itself
        if unanchored:
            segs.insert(0, _GLOBSTAR)
        groups: list[list] = [[]]
        for sg in segs:
            if sg is _GLOBSTAR:
                if groups[-1] or len(groups) == 1:
                    groups.append([])
                continue
            groups[-1].append(sg)
        self.starred = len(groups) > 1
        self.groups = groups
        self.min_parts = sum(len(g) for g in groups)
        self.match = self._match
        self.plain_name: str | None = None  # a name without wildcards, matched at any depth
        # the last character of every path it matches, when the glob ends with a literal one
        last = tokens[-1] if tokens else None
        self.last_char: str | None = last if type(last) is str and last != "/" else None
        if self.starred and len(groups) == 2 and not groups[0] and len(groups[1]) == 1:
            last = groups[1][0].match  # "name" anywhere: only the last segment counts
            self.match = lambda path: last(path[path.rfind("/") + 1 :])
            self.plain_name = groups[1][0].exact

    @staticmethod
    def _at(group: list, parts: list[str], i: int) -> bool:
        for k, sg in enumerate(group):
            if not sg.match(parts[i + k]):
                return False
        return True

    def _match(self, path: str) -> bool:
        parts = path.split("/")
        groups = self.groups
        if not self.starred:
            return len(parts) == len(groups[0]) and self._at(groups[0], parts, 0)
        first, last = groups[0], groups[-1]
        if len(parts) < self.min_parts:
            return False
        if not self._at(first, parts, 0) or not self._at(last, parts, len(parts) - len(last)):
            return False
        pos, end = len(first), len(parts) - len(last)
        for g in groups[1:-1]:
            for i in range(pos, end - len(g) + 1):
                if self._at(g, parts, i):
                    pos = i + len(g)
                    break
            else:
                return False
        return True


@dataclass(frozen=True)
class Pattern:
    """One compiled gitignore-style pattern, relative to ``base`` (a posix path, '' for root)."""

    source: str
    glob: _Glob
    negated: bool
    dir_only: bool
    anchored: bool = False

    def matches(self, rel: str, is_dir: bool) -> bool:
        """Does the pattern match ``rel`` (posix, relative to the pattern's base directory)?

        Linear-time in practice, and never worse than (path length) × (pattern length).
        """
        if self.dir_only and not is_dir:
            return False
        return self.glob.match(rel)


def compile_pattern(line: str) -> Pattern | None:
    """Compile one ``.gitignore`` line; ``None`` for blank lines, comments and invalid globs.

    A pattern with a leading or middle ``/`` is anchored to its base directory; one without
    matches a name at any depth.
    """
    src = line
    line = line.rstrip("\n").rstrip("\r")
    # Trailing spaces are ignored unless escaped with a backslash.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "
    line = stripped
    if not line or line.startswith("#"):
        return None
    negated = False
    if line.startswith("!"):
        negated = True
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    dir_only = False
    if line.endswith("/") and not line.endswith("\\/"):
        dir_only = True
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/") if anchored else line
    if not line:
        return None
    try:
        glob = _Glob(_tokens(line), unanchored=not anchored)
    except ValueError:
        return None
    return Pattern(src.strip(), glob, negated, dir_only, anchored)


@dataclass
class IgnoreFile:
    """The patterns of one ``.gitignore`` (or of the exclude globs), relative to ``base``."""

    base: Path
    patterns: list[Pattern] = field(default_factory=list)

    @classmethod
    def parse(cls, base: Path, text: str) -> "IgnoreFile":
        pats = [p for p in (compile_pattern(ln) for ln in text.splitlines()) if p is not None]
        return cls(base, pats)

    @classmethod
    def load(cls, path: Path, base: Path | None = None) -> "IgnoreFile | None":
        from convlint.source.files import read_regular

        try:
            text = read_regular(path, MAX_IGNORE_FILE_SIZE).decode("utf-8", errors="replace")
        except (OSError, ValueError):  # missing, a FIFO or device, too large: no patterns
            return None
        ig = cls.parse(base if base is not None else path.parent, text)
        return ig if ig.patterns else None

    def verdict(self, path: str | os.PathLike[str], is_dir: bool) -> bool | None:
        """True (ignored), False (re-included by ``!``), or None (no pattern matched).

        ``path`` is absolute and normalised (a string is fastest).
        """
        if not self.patterns:
            return None
        ps = os.fspath(path)
        base = os.fspath(self.base)
        prefix = base if base.endswith(os.sep) else base + os.sep
        if not ps.startswith(prefix):
            return None
        rel = ps[len(prefix):]
        if os.sep != "/":
            rel = rel.replace(os.sep, "/")
        if not rel:
            return None
        names, others = self._plan(rel[-1])
        # the last matching pattern decides: the last plain-name pattern for this name (a dict
        # lookup), unless a later one of the other patterns that may match a path ending so does
        best = -1
        for i in names.get(rel[rel.rfind("/") + 1:], ()):
            if is_dir or not self.patterns[i].dir_only:
                best = i
                break
        for i, pat in others:
            if i < best:
                break
            if pat.matches(rel, is_dir):
                return not pat.negated
        return None if best < 0 else not self.patterns[best].negated

    def _plan(self, last: str) -> tuple[dict[str, list[int]], list[tuple[int, Pattern]]]:
        """The patterns :meth:`verdict` tries for a path ending with the character ``last``: the
        plain names matched at any depth (``build/``, ``wandb``) by name, each name's pattern
        indices last first; and, last first, the other patterns that can match such a path
        (``*.so`` only matches paths ending with ``o``)."""
        plan = self.__dict__.get("_plan_cache")
        if plan is None or plan[0] != len(self.patterns):
            names: dict[str, list[int]] = {}
            for i, pat in enumerate(self.patterns):
                if pat.glob.plain_name is not None:
                    names.setdefault(pat.glob.plain_name, []).insert(0, i)
            plan = self.__dict__["_plan_cache"] = (len(self.patterns), names, {})
        by_last = plan[2]
        others = by_last.get(last)
        if others is None:
            others = by_last[last] = [
                (i, pat) for i, pat in reversed(list(enumerate(self.patterns)))
                if pat.glob.plain_name is None and pat.glob.last_char in (None, last)
            ]
        return plan[1], others


def _ignored(stack: Sequence[IgnoreFile], path: str | os.PathLike[str], is_dir: bool) -> bool:
    """The last matching pattern of the deepest ignore file that has an opinion decides."""
    for ig in reversed(stack):
        v = ig.verdict(path, is_dir)
        if v is not None:
            return v
    return False


# --------------------------------------------------------------------------- discovery


@dataclass(frozen=True)
class Discovery:
    """What discovery found: files to check (absolute, sorted) and command-line paths that do not exist."""

    files: list[Path]
    missing: list[Path]


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def _git_top(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return None


class _Walker:
    def __init__(self, root: Path, excludes: Iterable[str], respect_gitignore: bool) -> None:
        self.root = root
        pats = [p for p in (compile_pattern(g) for g in excludes) if p is not None]
        self.exclude = IgnoreFile(root, pats)
        self.respect_gitignore = respect_gitignore
        self._gitignores: dict[Path, IgnoreFile | None] = {}
        self._tops: dict[Path, Path | None] = {}

    # The ignore files that apply inside directory ``d`` (from the git top down to ``d``).
    def _gitignore_of(self, d: Path) -> IgnoreFile | None:
        if d not in self._gitignores:
            self._gitignores[d] = IgnoreFile.load(d / ".gitignore")
        return self._gitignores[d]

    def stack_for(self, d: Path) -> list[IgnoreFile]:
        if not self.respect_gitignore:
            return []
        if d not in self._tops:
            self._tops[d] = _git_top(d)
        top = self._tops[d]
        chain = [d, *d.parents]
        if top is None and (d == self.root or self.root in d.parents):
            top_dir: Path | None = self.root  # no git work tree: the config root bounds the chain
        else:
            top_dir = top
        chain = chain[: chain.index(top_dir) + 1] if top_dir is not None else [d]
        stack: list[IgnoreFile] = []
        if top is not None:
            info = IgnoreFile.load(top / ".git" / "info" / "exclude", base=top)
            if info is not None:
                stack.append(info)
        for p in reversed(chain):
            ig = self._gitignore_of(p)
            if ig is not None:
                stack.append(ig)
        return stack

    def excluded_name(self, path: str | os.PathLike[str], is_dir: bool, name: str | None = None) -> bool:
        """Built-in skips and config excludes (not gitignore)."""
        ps = os.fspath(path)
        if name is None:
            name = os.path.basename(ps)
        if is_dir and (name in ALWAYS_SKIP or os.path.isfile(os.path.join(ps, "pyvenv.cfg"))):
            return True
        if not self.exclude.patterns:
            return False
        return self.exclude.verdict(ps, is_dir) is True or self._exclude_by_name(ps, is_dir)

    def _exclude_by_name(self, path: str, is_dir: bool) -> bool:
        # A path outside the config root: name-only globs still apply to its last component.
        root = os.fspath(self.root)
        if path.startswith(root if root.endswith(os.sep) else root + os.sep):
            return False
        unanchored = [p for p in self.exclude.patterns if not p.anchored]
        return IgnoreFile(Path(os.path.dirname(path)), unanchored).verdict(path, is_dir) is True

    def path_excluded(self, path: Path, is_dir: bool) -> bool:
        """Would a walk from the filesystem root skip ``path``? (for --force-exclude)"""
        ancestors = list(reversed(path.parents))
        for i, d in enumerate(ancestors):
            if i == 0:
                continue  # the filesystem root
            if self._skips_dir(d, self.stack_for(d.parent)):
                return True
        if self.excluded_name(path, is_dir):
            return True
        return _ignored(self.stack_for(path.parent), path, is_dir)

    def _skips_dir(self, d: Path, stack: Sequence[IgnoreFile]) -> bool:
        inside_root = d == self.root or self.root in d.parents
        # Built-in names and venvs only below the config root (the user may keep the project
        # itself inside e.g. ``build/``); config excludes and gitignore wherever they apply.
        if inside_root and d != self.root and (d.name in ALWAYS_SKIP or _is_venv(d)):
            return True
        if self.exclude.verdict(d, True) is True:
            return True
        return _ignored(stack, d, True)

    def walk(self, top: Path, out: set[str]) -> None:
        """Add the files under ``top`` to ``out``: iteratively, so that no folder depth (a
        repository can nest thousands of folders) exhausts Python's recursion limit."""
        todo: list[tuple[str, list[IgnoreFile]]] = [(os.fspath(top), self.stack_for(top))]
        while todo:
            d, stack = todo.pop()
            todo.extend(reversed(self._scan(d, stack, out)))

    def _scan(self, d: str, stack: list[IgnoreFile], out: set[str]) -> list[tuple[str, list[IgnoreFile]]]:
        """One folder: its files go to ``out``; its subfolders to walk are returned, in order."""
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return []
        subdirs: list[tuple[str, list[IgnoreFile]]] = []
        for e in entries:
            try:
                is_dir = e.is_dir(follow_symlinks=False)
                is_file = not is_dir and e.is_file()
            except OSError:
                continue
            p = e.path
            if is_dir:
                if self.excluded_name(p, True, e.name) or _ignored(stack, p, True):
                    continue
                sub = stack
                if self.respect_gitignore:
                    ig = self._gitignore_of(Path(p))
                    if ig is not None:
                        sub = [*stack, ig]
                subdirs.append((p, sub))
            elif e.name.endswith(PY_SUFFIXES) and (is_file or _special(p)):
                # a FIFO or device named *.py is kept, so that reading it is refused as CVL000
                if self.excluded_name(p, False, e.name) or _ignored(stack, p, False):
                    continue
                out.add(p)
        return subdirs


def _special(path: str) -> bool:
    """A FIFO, device or socket (or a link to one): not a directory, not a regular file, exists."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISDIR(mode) and not stat.S_ISREG(mode)


def discover(
    paths: Sequence[str | os.PathLike[str]] = (),
    *,
    root: str | os.PathLike[str] | None = None,
    exclude: Iterable[str] = (),
    extend_exclude: Iterable[str] = (),
    respect_gitignore: bool = True,
    force_exclude: bool = False,
    cwd: str | os.PathLike[str] | None = None,
) -> Discovery:
    """Find the files to check under ``paths`` (default: the current directory).

    ``root`` is the directory that relative exclude globs are taken from (the configuration's
    root; default: ``cwd``). Never raises for a missing or unreadable path: missing command-line
    paths are returned in :attr:`Discovery.missing`, unreadable directories are skipped.
    """
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    root_p = Path(os.path.abspath(base / root)) if root is not None else base
    walker = _Walker(root_p, [*exclude, *extend_exclude], respect_gitignore)
    files: set[str] = set()
    missing: set[Path] = set()
    for raw in paths or (".",):
        p = Path(os.path.normpath(base / os.fspath(raw)))
        if not os.path.lexists(p):
            missing.add(p)
            continue
        if p.is_dir():
            if force_exclude and walker.path_excluded(p, True):
                continue
            walker.walk(p, files)
        else:
            if force_exclude and walker.path_excluded(p, False):
                continue
            files.add(os.fspath(p))
    return Discovery([Path(f) for f in sorted(files)], sorted(missing))
