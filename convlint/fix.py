"""``convlint check --fix`` and ``--diff``: apply the findings' certain fixes as text edits.

A finding's :class:`~convlint.findings.Fix` carries text edits (1-based line and column, end
exclusive, columns in characters as LibCST counts them). Applying them as text, back to front,
keeps every other byte of the file: formatting, comments, line endings, encoding.

One pass applies, in each group of files that may depend on each other (a model and the
``parts.py`` it imports), only the first fixable finding. A decoder with two wrong transposed
convs is the reason: the second conv's fix is computed from the size the first one (wrongly)
gives, so applying both at once can turn a fix into a new bug. After each pass the changed text
must parse with LibCST (otherwise that file is left alone and reported) and is checked again, in
memory, with the files that may import it; the loop stops when nothing fixable is left (at most
:data:`MAX_PASSES` passes), so running ``--fix`` twice changes nothing the second time.

Then ``--fix`` writes each changed file atomically (a temporary file beside it, then
``os.replace``, keeping its mode), and ``--diff`` prints a unified diff (``--- a/path``,
``+++ b/path``) and writes nothing.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import tempfile
import tokenize
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from convlint.findings import Finding

__all__ = ["MAX_PASSES", "FixOutcome", "apply_fixes", "fix_summary"]

MAX_PASSES = 12

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Recheck = Callable[[Mapping[Path, str]], Sequence[Finding]]


@dataclass
class FixOutcome:
    """What :func:`apply_fixes` did.

    ``applied`` counts the findings whose fix went in (also with ``write=False``: what ``--fix``
    would do). ``changed`` lists the display paths of the files changed (or that would be);
    ``skipped`` one line per file or fix left alone, with the reason (printed as warnings);
    ``errors`` one line per file that ``--fix`` could not write (the caller reports them as errors:
    the run goes on, and exits 2).
    """

    applied: int = 0
    diff: str = ""
    changed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    passes: int = 0


# --------------------------------------------------------------------------- documents


class _Doc:
    """One file being fixed: how it was stored on disk, its original and its current text."""

    def __init__(self, path: Path, display: str, data: bytes, encoding: str, text: str) -> None:
        self.path = path
        self.display = display
        self.data = data
        self.encoding = encoding
        self.original = text
        self.text = text
        self.frozen: str | None = None  # why this file is no longer fixed
        self.applied = 0  # findings fixed in it
        self.stalled = False  # its fixes went round in a circle: no more passes for it
        self.seen = {text}
        self._starts: list[int] | None = None

    @classmethod
    def load(cls, path: Path, display: str) -> "_Doc | str":
        from convlint.source.files import read_regular

        try:
            data = read_regular(path)
        except OSError as exc:
            return f"cannot read: {exc.strerror or exc}"
        try:
            encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
            text = data.decode(encoding)
        except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
            return f"cannot decode: {exc}"
        return cls(path, display, data, encoding, text)

    @property
    def newline(self) -> str:
        m = _LINE_BREAK.search(self.original)
        return m.group(0) if m else "\n"

    def set_text(self, text: str) -> None:
        self.text = text
        self._starts = None

    def offset(self, line: int, column: int) -> int | None:
        """Character offset of a 1-based (line, column) in the current text; None if outside."""
        if self._starts is None:
            starts = [0]
            for m in _LINE_BREAK.finditer(self.text):
                starts.append(m.end())
            self._starts = starts
        starts = self._starts
        if not 1 <= line <= len(starts) or column < 1:
            return None
        start = starts[line - 1]
        if line < len(starts):
            m = _LINE_BREAK.search(self.text, start)
            line_end = m.start() if m else len(self.text)
        else:
            line_end = len(self.text)
        if start + column - 1 > line_end:
            return None
        return start + column - 1


def _edits(doc: _Doc, finding: Finding) -> list[tuple[int, int, str]] | None:
    """The finding's edits as (start, end, content) offsets on the doc's current text."""
    out = []
    assert finding.fix is not None
    for line, col, end_line, end_col, content in finding.fix.edits:
        a = doc.offset(line, col)
        b = doc.offset(end_line, end_col)
        if a is None or b is None or b < a:
            return None
        if "\n" in content or "\r" in content:  # keep the file's line endings
            content = _LINE_BREAK.sub(doc.newline, content)
        out.append((a, b, content))
    return sorted(out)


def _overlaps(x: tuple[int, int, str], y: tuple[int, int, str]) -> bool:
    (a, b, _), (c, d, _) = x, y
    if max(a, c) < min(b, d):
        return True
    # an insertion at (or inside) another edit's span: the order would be a guess
    return (a == b and c <= a <= d) or (c == d and a <= c <= b)


def _apply(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    for a, b, content in sorted(edits, reverse=True):
        text = text[:a] + content + text[b:]
    return text


def _parses(text: str, original: str | None = None) -> str | None:
    """None when ``text`` parses with LibCST, else the reason (one line).

    When ``original`` compiles, ``text`` must compile too: Python rejects some things at compile
    time that parse (a keyword argument given twice).
    """
    import libcst as cst

    from convlint.source.prescreen import prescreen

    refused = prescreen(text)
    if refused is not None:
        return refused.message
    try:
        cst.parse_module(text)
    except Exception as exc:  # ParserSyntaxError, or RecursionError on absurd input
        first = str(exc).strip().splitlines()
        return first[0] if first else type(exc).__name__
    if original is not None and _compiles(original) is None:
        return _compiles(text)
    return None


def _compiles(text: str) -> str | None:
    try:
        compile(text, "<fixed>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# --------------------------------------------------------------------------- file groups


def _stem(path: Path) -> str:
    return path.parent.name if path.name == "__init__.py" else path.stem


class _Words:
    """The identifiers a file's text mentions: a cheap, generous stand-in for its imports."""

    def __init__(self) -> None:
        self._cache: dict[Path, tuple[str, frozenset[str]]] = {}

    def __call__(self, path: Path, text: str) -> frozenset[str]:
        hit = self._cache.get(path)
        if hit is not None and hit[0] is text:
            return hit[1]
        words = frozenset(_WORD.findall(text))
        self._cache[path] = (text, words)
        return words


def _groups(texts: Mapping[Path, str], words: _Words) -> dict[Path, Path]:
    """Union-find over files: two files are in one group when one mentions the other's module name."""
    parent = {p: p for p in texts}

    def find(p: Path) -> Path:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    by_stem: dict[str, list[Path]] = {}
    for p in texts:
        by_stem.setdefault(_stem(p), []).append(p)
    for p, text in texts.items():
        for w in words(p, text) & by_stem.keys():
            for q in by_stem[w]:
                ra, rb = find(p), find(q)
                if ra != rb:
                    parent[ra] = rb
    return {p: find(p) for p in texts}


# --------------------------------------------------------------------------- the in-memory re-check


def _affected(texts: Mapping[Path, str], analysed: set[Path], changed: Iterable[Path], words: _Words) -> set[Path]:
    """The analysed files that may see a change to ``changed``: the changed ones, and those that
    mention a changed module's name, transitively (through files the prefilter drops too: a
    ``train.py`` without a conv that imports the model may be imported by one with).

    A worklist over module names: each file is reached at most once, so this ends whatever
    imports whatever.
    """
    changed = set(changed)
    by_word: dict[str, list[Path]] = {}
    stems = {_stem(p) for p in texts} | {_stem(p) for p in changed}
    for p, text in texts.items():
        for w in words(p, text) & stems:
            by_word.setdefault(w, []).append(p)
    reached = set(changed)
    todo = list({_stem(p) for p in changed})
    done: set[str] = set()
    while todo:
        stem = todo.pop()
        if stem in done:
            continue
        done.add(stem)
        for p in by_word.get(stem, ()):
            if p not in reached:
                reached.add(p)
                todo.append(_stem(p))
    return {p for p in reached if p in analysed}


class _Rechecker:
    """``convlint check`` again, as if some files had other text, analysing only the files that
    may see the change (the changed ones and those that mention them, transitively)."""

    def __init__(self, paths: Sequence[Any], config: Any, force_exclude: bool, cwd: Path, words: _Words) -> None:
        self.paths = list(paths)
        self.config = config
        self.force_exclude = force_exclude
        self.cwd = cwd
        self.words = words

    def files(self, overlay: Mapping[Path, str]) -> tuple[dict[Path, str], set[Path]]:
        """(text of every file the check covers, the ones the prefilter lets through)."""
        from convlint.source.discover import discover
        from convlint.source.files import ReadError, read_source
        from convlint.source.prefilter import may_contain_conv

        cfg = self.config
        found = discover(
            self.paths,
            root=cfg.root,
            exclude=cfg.exclude,
            extend_exclude=cfg.extend_exclude,
            respect_gitignore=cfg.respect_gitignore,
            force_exclude=self.force_exclude,
            cwd=self.cwd,
        )
        model_files = {Path(m.path) for m in cfg.models}
        texts: dict[Path, str] = {}
        analysed: set[Path] = set()
        for path in found.files:
            path = Path(path)
            if path in overlay:
                text = overlay[path]
                data = text.encode("utf-8", "surrogatepass")
            else:
                src = read_source(path, cfg.max_file_size)
                if isinstance(src, ReadError):
                    continue
                text, data = src.text, src.data
            texts[path] = text
            if may_contain_conv(data) or path in model_files:
                analysed.add(path)
        return texts, analysed

    def __call__(self, overlay: Mapping[Path, str]) -> list[Finding]:
        from convlint.analysis import Project, analyze_file
        from convlint.pipeline import _absolute, _finish

        texts, analysed = self.files(overlay)
        relevant = _affected(texts, analysed, overlay, self.words)

        project = Project(root=self.config.root, config=self.config)
        seed = getattr(project, "parse_text", None)  # imports of the changed files see the new text
        for p, text in overlay.items():
            if seed is not None:
                seed(str(p), text)
        raw: list[Finding] = []
        for p in sorted(relevant):
            try:
                result = analyze_file(project, str(p), texts[p])
            except Exception:  # the final check reports internal errors
                continue
            found, _ = _absolute(list(result.findings), dict(result.deps or {}), self.cwd)
            raw.extend(found)
        findings, _ = _finish(raw, self.config, self.cwd, {**texts, **overlay})
        return findings


# --------------------------------------------------------------------------- the fixer


def _fixable(f: Finding) -> bool:
    return f.fix is not None and bool(f.fix.edits)


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def apply_fixes(
    findings: Sequence[Finding],
    *,
    write: bool,
    paths: Sequence[Any] | None = None,
    config: Any = None,
    force_exclude: bool = False,
    cwd: str | os.PathLike[str] | None = None,
    stderr: Any = None,
    recheck: Recheck | None = None,
) -> FixOutcome:
    """Apply the certain fixes of ``findings`` (those with edits); write the files if ``write``.

    With ``config`` (and the ``paths`` that were checked) the fixed text is checked again in memory
    and the loop goes on until nothing fixable is left; without it, one pass. Files whose fixed
    text would not parse are left alone and named on ``stderr`` (default ``sys.stderr``).
    """
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    err = stderr if stderr is not None else sys.stderr
    outcome = FixOutcome()
    words = _Words()
    root = Path(os.path.abspath(config.root)) if config is not None else None
    if recheck is None and config is not None:
        recheck = _Rechecker(paths or (), config, force_exclude, base, words)

    docs: dict[Path, _Doc] = {}
    unusable: dict[Path, str] = {}

    def doc_for(f: Finding) -> _Doc | None:
        path = Path(os.path.normpath(os.path.join(base, f.path)))
        if path in docs:
            return docs[path]
        if path in unusable:
            return None
        why = None
        if root is not None and not (_under(path, root) and _under(Path(os.path.realpath(path)), Path(os.path.realpath(root)))):
            why = "outside the project, not changed"  # also through a symbolic link
        loaded = _Doc.load(path, f.path) if why is None else why
        if isinstance(loaded, str):
            unusable[path] = loaded
            outcome.skipped.append(f"{f.path}: {loaded}")
            return None
        docs[path] = loaded
        return loaded

    # the files the check covers, for the dependency groups
    known: dict[Path, str] = {}
    if isinstance(recheck, _Rechecker):
        try:
            known, _ = recheck.files({})
        except Exception:
            known = {}

    pending = [f for f in findings if _fixable(f)]
    states: set[frozenset[tuple[Path, str]]] = set()
    for n in range(1, MAX_PASSES + 1):
        if not pending:
            break
        outcome.passes = n
        before = len(pending)
        chosen: dict[Path, list[tuple[Finding, list[tuple[int, int, str]]]]] = {}
        candidates = []
        for f in sorted(pending, key=lambda f: (*f.sort_key(), f.end_line, f.end_column)):
            doc = doc_for(f)
            if doc is None or doc.frozen or doc.stalled:
                continue
            edits = _edits(doc, f)
            if edits is None:
                outcome.skipped.append(f"{f.path}:{f.line}:{f.column}: {f.code} fix does not fit the file, not applied")
                continue
            candidates.append((doc, f, edits))
        if not candidates:
            break
        texts = {**known, **{d.path: d.text for d in docs.values()}}
        group = _groups(texts, words)
        taken: dict[Path, tuple[Path, list[tuple[int, int, str]]]] = {}  # group -> the fix applied this pass
        for doc, f, edits in candidates:
            g = group.get(doc.path, doc.path)
            if g in taken:
                if taken[g] == (doc.path, edits):  # the same fix, from two rules
                    chosen[doc.path].append((f, []))
                continue
            if any(_overlaps(e, o) for e in edits for (_, es) in chosen.get(doc.path, ()) for o in es):
                continue
            taken[g] = (doc.path, edits)
            chosen.setdefault(doc.path, []).append((f, edits))

        changed: dict[Path, str] = {}
        for path, items in chosen.items():
            doc = docs[path]
            new = _apply(doc.text, [e for _, es in items for e in es])
            if new in doc.seen:  # a fix undoing an earlier one: stop here
                doc.stalled = True
                outcome.skipped.append(f"{doc.display}: the fixes do not settle; the rest is left for you")
                continue
            doc.seen.add(new)
            problem = _parses(new, doc.original)
            if problem is not None:
                doc.frozen = f"the fixed text would not parse ({problem}); file left unchanged"
                doc.set_text(doc.original)
                doc.applied = 0
                continue
            doc.set_text(new)
            changed[path] = new
            doc.applied += len(items)
        if not changed or recheck is None:
            break
        # Progress, or stop: the texts of this pass must be new, and the re-check must find fewer
        # fixable findings than the pass started with (a decreasing count ends the loop by itself).
        state = frozenset((d.path, d.text) for d in docs.values())
        if state in states:
            outcome.skipped.append("the fixes do not settle (a pass repeated an earlier state); the rest is left for you")
            break
        states.add(state)
        overlay = {d.path: d.text for d in docs.values() if d.text != d.original}
        if any(d.frozen for d in docs.values()):
            overlay.update({d.path: d.original for d in docs.values() if d.frozen})
        try:
            pending = [f for f in recheck(overlay) if _fixable(f)]
        except Exception as exc:  # the final check will report it; keep what is done
            outcome.skipped.append(f"re-check after fixing failed ({type(exc).__name__}: {exc}); stopped after pass {n}")
            break
        if pending and len(pending) >= before:
            outcome.skipped.append(
                f"the fixes do not settle (pass {n} left {len(pending)} fixable finding(s) of {before}); "
                "the rest is left for you"
            )
            break
    else:
        if pending:
            outcome.skipped.append(f"stopped after {MAX_PASSES} passes with fixes left; run --fix again")

    for doc in docs.values():
        if doc.frozen:
            outcome.skipped.append(f"{doc.display}: {doc.frozen}")
    diffs = []
    for doc in sorted(docs.values(), key=lambda d: d.display):
        if doc.frozen or doc.text == doc.original:
            continue
        if write:
            problem = _write(doc)
            if problem:
                outcome.errors.append(f"{doc.display}: {problem}")
                continue
        outcome.changed.append(doc.display)
        outcome.applied += doc.applied
        diffs.append(_unified(doc))
    outcome.diff = "".join(diffs)
    outcome.skipped = list(dict.fromkeys(outcome.skipped))
    for line in outcome.skipped:
        try:
            err.write(f"convlint: warning: {line}\n")
        except Exception:
            pass
    return outcome


def _split_keep(text: str) -> list[str]:
    out, start = [], 0
    for m in _LINE_BREAK.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _unified(doc: _Doc) -> str:
    a, b = _split_keep(doc.original), _split_keep(doc.text)
    out = []
    for line in difflib.unified_diff(a, b, fromfile=f"a/{doc.display}", tofile=f"b/{doc.display}", n=3):
        if line.startswith(("---", "+++", "@@")):
            out.append(line if line.endswith("\n") else line + "\n")
        elif _LINE_BREAK.search(line[-1:]) or line.endswith("\r\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _write(doc: _Doc) -> str | None:
    """Write the doc atomically if the file still holds what was read; the reason if not written.

    Atomically means a temporary file in the same folder, renamed over the file: a file in a
    folder convlint cannot write to is not written (and said so), even if the file itself is
    writable.
    """
    from convlint.source.files import read_regular

    target = Path(os.path.realpath(doc.path))
    try:
        if read_regular(target) != doc.data:
            return "changed on disk while fixing, not written"
        data = doc.text.encode(doc.encoding)
    except OSError as exc:
        return f"not written: {exc.strerror or exc}"
    except UnicodeEncodeError as exc:
        return f"not written: the fix cannot be encoded as {doc.encoding} ({exc.reason})"
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".convlint-tmp")
    except OSError as exc:
        return f"not written: cannot create a file in its folder ({exc.strerror or exc})"
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return f"not written: {exc.strerror or exc}"
    return None


def fix_summary(fixed: int, remaining: Sequence[Finding]) -> str:
    """ruff's closing line after ``--fix``: ``Found 3 errors (2 fixed, 1 remaining).``"""
    total = fixed + len(remaining)
    word = "error" if all(f.severity == "error" for f in remaining) else "problem"
    lines = [f"Found {total} {word}{'' if total == 1 else 's'} ({fixed} fixed, {len(remaining)} remaining)."]
    fixable = sum(1 for f in remaining if _fixable(f))
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    return "".join(line + "\n" for line in lines)
