"""A per-file result cache under ``.convlint_cache/`` (in the configuration root).

An entry is keyed by the file's path (relative to the root), the sha256 of its content, the
convlint version and the configuration's fingerprint. It stores the file's findings (before
selection and suppression, which are applied on every run) and its *dependencies*: the other
files the analysis consulted (path -> sha256, or ``None`` for a module it looked for and did not
find). An entry is used only if every dependency still has that hash, so editing ``parts.py``
re-checks the model that imports it.

Layout::

    .convlint_cache/
        .gitignore          "*": the cache is never committed
        CACHEDIR.TAG        the standard tag (https://bford.info/cachedir/): backup tools skip it
        0.1.0-<config fingerprint>/<key[:2]>/<key>.json

Robustness: entries are written atomically (a temporary file, then ``os.replace``); a missing,
corrupt or unreadable entry is a miss; if the directory cannot be written the cache turns itself
off silently for the rest of the run. Nothing here raises.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from convlint.findings import Finding, Fix

__all__ = ["CACHEDIR_TAG", "Cache", "CachedResult", "finding_from_json", "finding_to_json"]

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by convlint.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)
_GITIGNORE = "# Automatically created by convlint.\n*\n"
_FORMAT = 1


def finding_to_json(f: Finding) -> dict[str, Any]:
    """A finding as JSON, lossless (``Finding.to_json`` plus ``notes``)."""
    d = f.to_json()
    d["notes"] = list(f.notes)
    return d


def finding_from_json(d: Mapping[str, Any]) -> Finding:
    """The inverse of :func:`finding_to_json`; raises on malformed data."""
    fx = d.get("fix")
    fix = None
    if fx is not None:
        edits = tuple(
            (int(e["line"]), int(e["column"]), int(e["end_line"]), int(e["end_column"]), str(e["content"]))
            for e in fx.get("edits", ())
        )
        fix = Fix(str(fx["message"]), fx.get("replacement"), edits)
    return Finding(
        code=str(d["code"]),
        severity=str(d["severity"]),
        message=str(d["message"]),
        path=str(d["path"]),
        line=int(d["line"]),
        column=int(d["column"]),
        end_line=int(d["end_line"]),
        end_column=int(d["end_column"]),
        fix=fix,
        notes=tuple(str(n) for n in d.get("notes", ())),
    )


def _hash_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


@dataclass(frozen=True)
class CachedResult:
    """What the cache holds for one file."""

    findings: list[Finding]
    deps: dict[str, str | None]


class Cache:
    """The cache of one run (one root, one configuration fingerprint)."""

    def __init__(self, directory: str | os.PathLike[str], fingerprint: str, *, root: str | os.PathLike[str], version: str | None = None) -> None:
        if version is None:
            from convlint import __version__ as version
        self.directory = Path(directory)
        self.root = Path(root)
        self.version = version
        self.fingerprint = fingerprint
        self.bucket = self.directory / f"{version}-{fingerprint[:16]}"
        self.writable = True
        self._prepared = False
        self._hashes: dict[Path, str | None] = {}
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_config(cls, config: Any) -> "Cache":
        """The cache a :class:`convlint.config.Config` asks for (``cache_path``, ``fingerprint()``)."""
        return cls(config.cache_path, config.fingerprint(), root=config.root)

    # -- keys and paths

    def _rel(self, path: str | os.PathLike[str]) -> str:
        p = Path(os.path.abspath(path))
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return p.as_posix()

    def key(self, path: str | os.PathLike[str], sha256: str) -> str:
        """The entry key of ``path`` with content hash ``sha256``."""
        blob = "\0".join((str(_FORMAT), self.version, self.fingerprint, self._rel(path), sha256))
        return hashlib.sha256(blob.encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.bucket / key[:2] / f"{key}.json"

    def current_hash(self, path: str | os.PathLike[str]) -> str | None:
        """sha256 of a file now (memoised for the run); None if it cannot be read."""
        p = Path(os.path.abspath(self.root / path))
        if p not in self._hashes:
            self._hashes[p] = _hash_file(p)
        return self._hashes[p]

    def note_hash(self, path: str | os.PathLike[str], sha256: str) -> None:
        """Tell the cache a file's hash already computed this run (saves re-reading it)."""
        self._hashes[Path(os.path.abspath(self.root / path))] = sha256

    # -- lookup and store

    def get(self, path: str | os.PathLike[str], sha256: str) -> CachedResult | None:
        """The cached result for this content, if present, well-formed and its deps unchanged."""
        try:
            with open(self._entry(self.key(path, sha256)), "rb") as fh:
                data = json.loads(fh.read())
            if data.get("sha256") != sha256:
                raise ValueError("hash mismatch")
            deps = {str(k): (None if v is None else str(v)) for k, v in data["deps"].items()}
            for dep, h in deps.items():
                if self.current_hash(dep) != h:
                    self.misses += 1
                    return None
            findings = [finding_from_json(f) for f in data["findings"]]
        except Exception:
            self.misses += 1
            return None
        self.hits += 1
        return CachedResult(findings, deps)

    def put(self, path: str | os.PathLike[str], sha256: str, findings: Sequence[Finding], deps: Mapping[str, str | None]) -> None:
        """Store a result; silently does nothing if the cache directory cannot be written."""
        if not self.writable:
            return
        try:
            self._prepare()
            entry = self._entry(self.key(path, sha256))
            entry.parent.mkdir(parents=True, exist_ok=True)
            payload = {
                "format": _FORMAT,
                "path": self._rel(path),
                "sha256": sha256,
                "findings": [finding_to_json(f) for f in findings],
                "deps": {str(k): v for k, v in sorted(deps.items())},
            }
            self._atomic_write(entry, json.dumps(payload, sort_keys=True, separators=(",", ":")))
        except Exception:
            self.writable = False

    def _prepare(self) -> None:
        if self._prepared:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", CACHEDIR_TAG)):
            p = self.directory / name
            if not p.exists():
                self._atomic_write(p, text)
        self._prepared = True

    @staticmethod
    def _atomic_write(path: Path, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
