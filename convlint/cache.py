"""A per-file result cache under ``.convlint_cache/`` (in the configuration root).

An entry is keyed by the file's path (relative to the root), the sha256 of its content, the
convlint version and the configuration's fingerprint. It stores the file's findings (before
selection and suppression, which are applied on every run) and its *dependencies*: the other
files the analysis consulted, ``None`` for each file it looked for as a module and did not
find, and the whole-file hash of each module file it found but could not read (a syntax error).
An imported module is read a statement at a time, and its dependency records what was read: the
file's sha256, the top-level statements the analysis ran and their
:func:`~convlint.source.index.reached_digest` (the module's name bindings, those statements' text
and lines). An entry is used only if every dependency is unchanged — the same hash, or for a
module a text with the same digest — so editing the ``Down`` block of ``parts.py`` re-checks the
model that uses it, and editing another block or a comment there does not.

The cache holds only data convlint wrote, and is trusted no further than that:

- Every entry is authenticated with an HMAC-SHA256 whose key lives outside any repository, in
  the user's cache directory (``$XDG_CACHE_HOME/convlint/key``, else ``~/.cache/convlint/key``),
  created on first use with mode 0600. An entry that does not verify (committed to a repository,
  copied from another machine, edited) is a miss, and is overwritten. If the key cannot be read
  or created — or it would lie inside the project — the cache is off for the run, silently.
- Entries are JSON, never pickle; they are read as regular files only, with a size limit.
- Findings that carry a fix are never stored: a file with a fixable finding is analysed again on
  every run, so ``--fix`` only ever applies edits computed from the file as it is.
- Nothing is written outside the project root: the cache directory must resolve (symbolic links
  followed) to a place inside it, and convlint writes into a directory only if it created it or
  it already holds convlint's ``CACHEDIR.TAG`` (or is empty) — never ``.gitignore`` (``*``) into a
  folder of yours.

Layout::

    .convlint_cache/
        .gitignore          "*": the cache is never committed
        CACHEDIR.TAG        the standard tag (https://bford.info/cachedir/): backup tools skip it
        0.1.0-<config fingerprint>/<key[:2]>/<key>.json

Robustness: entries are written atomically (a temporary file, then ``os.replace``); a missing,
corrupt, unverified or unreadable entry is a miss; if the directory cannot be written the cache
turns itself off silently for the rest of the run. Nothing here raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from convlint.findings import Finding, Fix, Related

__all__ = [
    "CACHEDIR_TAG",
    "Cache",
    "ParseStore",
    "CachedResult",
    "default_key_path",
    "finding_from_json",
    "finding_to_json",
    "load_key",
]

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by convlint.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)
_GITIGNORE = "# Automatically created by convlint.\n*\n"
_FORMAT = 4  # 3: findings carry related locations (a helper's line); 4: dependencies by statement
_MAGIC = b"convlint-cache 2\n"
_MAX_ENTRY = 16 * 1024 * 1024  # bytes: a bigger entry is not read
_UNREAD = object()  # (a memo miss: None is a hash, "the file cannot be read")
_MAX_BLOB = 64 * 1024 * 1024  # bytes: the same for a whole-run document (the import scan)
_KEY_BYTES = 32


def finding_to_json(f: Finding) -> dict[str, Any]:
    """A finding as JSON, lossless (``Finding.to_json`` plus ``notes``)."""
    d = f.to_json()
    d["notes"] = list(f.notes)
    d["related"] = [r.to_json() for r in f.related]
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
        related=tuple(Related.from_json(r) for r in d.get("related", ())),
    )


def _fixable(f: Finding) -> bool:
    return f.fix is not None and bool(f.fix.edits)


def _index_file(path: Path) -> tuple | None:
    """(text, index, line starts) of a module as the analysis reads it (``Project.parsed``), or
    None when it cannot be read or parsed."""
    from convlint.source.files import MAX_DEPENDENCY_SIZE, read_regular
    from convlint.source.index import build_index, line_starts
    from convlint.source.prescreen import parse_python

    try:
        text = read_regular(path, MAX_DEPENDENCY_SIZE).decode("utf-8-sig")
        return text, build_index(parse_python(text)), line_starts(text)
    except (OSError, ValueError, SyntaxError, RecursionError, MemoryError):  # ValueError: not UTF-8, NUL bytes
        return None


def _dep_from_json(v: Any) -> str | dict | None:
    """A stored dependency: None, a hash, or ``{"sha256", "reached", "digest"}``; raises on anything else."""
    if v is None or isinstance(v, str):
        return v
    reached = [int(i) for i in v["reached"]]
    digest = v["digest"]
    if not isinstance(v["sha256"], str) or not (digest is None or isinstance(digest, str)):
        raise ValueError("malformed dependency")
    return {"sha256": v["sha256"], "reached": reached, "digest": digest}


def _inside(path: Path, root: Path) -> bool:
    """Is ``path`` at or below ``root``, both resolved (symbolic links followed)?"""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- the key


def default_key_path(env: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CACHE_HOME/convlint/key`` (an absolute XDG_CACHE_HOME only), else ``~/.cache/convlint/key``."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "convlint" / "key"
    home = env.get("HOME") or ""
    if not home:
        try:
            home = str(Path.home())
        except (RuntimeError, KeyError, OSError):
            return None
    if not os.path.isabs(home):
        return None
    return Path(home) / ".cache" / "convlint" / "key"


def _read_key(path: Path) -> bytes | None:
    """The key in ``path``, if it is a regular file of ours that nobody else can read or write."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 4096:
            return None
        if os.name == "posix" and (st.st_mode & 0o077 or st.st_uid != os.getuid()):
            return None
        data = os.read(fd, 4096).strip()
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return key if len(key) == _KEY_BYTES else None


def load_key(path: Path | None = None, *, create: bool = True) -> bytes | None:
    """The user's cache key: read, or created (mode 0600) on first use; None if neither works.

    Creation is atomic (a temporary file linked into place), so concurrent runs agree on one key.
    """
    path = default_key_path() if path is None else path
    if path is None:
        return None
    key = _read_key(path)
    if key is not None or not create:
        return key
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")  # mode 0600
    except OSError:
        return None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(_KEY_BYTES) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another run created it first: then use theirs
        except FileExistsError:
            pass
        except OSError:  # no hard links here (some file systems): rename, without overwriting a key
            if not os.path.lexists(path):
                os.replace(tmp, path)
    except OSError:
        return None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return _read_key(path)


@dataclass(frozen=True)
class CachedResult:
    """What the cache holds for one file."""

    findings: list[Finding]
    deps: dict[str, str | None]


class Cache:
    """The cache of one run (one root, one configuration fingerprint).

    ``key`` is the HMAC key; by default the user's (:func:`load_key`), loaded on first use. With
    no key to be had, every lookup misses and nothing is written.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        fingerprint: str,
        *,
        root: str | os.PathLike[str],
        version: str | None = None,
        key: bytes | None = None,
        key_path: Path | None = None,
    ) -> None:
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
        self._path_of: dict[str, Path] = {}  # a dependency as results record it -> its key in _hashes
        self._indexes: dict[Path, tuple | None] = {}  # path -> (text, ModuleIndex, line starts) or None
        self._key = key
        self._key_path = key_path
        self._key_loaded = key is not None
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_config(cls, config: Any) -> "Cache":
        """The cache a :class:`convlint.config.Config` asks for (``cache_path``, ``fingerprint()``)."""
        return cls(config.cache_path, config.fingerprint(), root=config.root)

    @property
    def key_bytes(self) -> bytes | None:
        """The HMAC key (None: the cache is off); never one stored inside the project."""
        if not self._key_loaded:
            self._key_loaded = True
            path = self._key_path if self._key_path is not None else default_key_path()
            if path is None or _inside(path, self.root):
                self._key = None
            else:
                self._key = load_key(path)
            if self._key is None:
                self.writable = False
        return self._key

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

    def _mac(self, key: str, payload: bytes) -> str:
        assert self._key is not None
        return hmac.new(self._key, key.encode("ascii") + b"\n" + payload, hashlib.sha256).hexdigest()

    def current_hash(self, path: str | os.PathLike[str]) -> str | None:
        """sha256 of a file now (memoised for the run); None if it cannot be read."""
        from convlint.source.files import dependency_hash

        p = self._path_of.get(path) if isinstance(path, str) else None  # every result records the same few hundred
        if p is None:
            p = Path(os.path.abspath(self.root / path))
            if isinstance(path, str):
                self._path_of[path] = p
        got = self._hashes.get(p, _UNREAD)
        if got is _UNREAD:
            got = self._hashes[p] = dependency_hash(p)
        return got

    def _unchanged(self, dep: str, recorded: str | dict | None) -> bool:
        """Does dependency ``dep`` still give the analysis that recorded it what it read?

        A whole-file hash (or None: the file did not exist) must match. A module read statement by
        statement (``{"sha256", "reached", "digest"}``, see ``Project.end``) matches when its hash
        does, or else when its text now has the same :func:`reached_digest` for the statements the
        analysis ran: an edit elsewhere in the file (another class, a comment) keeps the entry."""
        if not isinstance(recorded, dict):
            return self.current_hash(dep) == recorded
        if self.current_hash(dep) == recorded["sha256"]:
            return True
        return recorded["digest"] is not None and self.current_digest(dep, recorded["reached"]) == recorded["digest"]

    def current_digest(self, path: str | os.PathLike[str], reached: Sequence[int]) -> str | None:
        """:func:`~convlint.source.index.reached_digest` of a file now, for the statements
        ``reached`` (its index built once per run); None if it cannot be read or parsed."""
        from convlint.source.index import reached_digest

        p = Path(os.path.abspath(self.root / path))
        if p not in self._indexes:
            self._indexes[p] = _index_file(p)
        got = self._indexes[p]
        return reached_digest(got[0], got[1], reached, got[2]) if got is not None else None

    def note_hash(self, path: str | os.PathLike[str], sha256: str) -> None:
        """Tell the cache a file's hash already computed this run (saves re-reading it)."""
        self._hashes[Path(os.path.abspath(self.root / path))] = sha256

    # -- lookup and store

    def get(self, path: str | os.PathLike[str], sha256: str) -> CachedResult | None:
        """The cached result for this content, if present, authentic, well-formed and its deps unchanged."""
        from convlint.source.files import read_regular

        if self.key_bytes is None:
            return None
        try:
            key = self.key(path, sha256)
            raw = read_regular(self._entry(key), _MAX_ENTRY)
            if not raw.startswith(_MAGIC):
                raise ValueError("not an entry")
            mac, _, payload = raw[len(_MAGIC):].partition(b"\n")
            if not hmac.compare_digest(mac, self._mac(key, payload).encode("ascii")):
                raise ValueError("not written by this user's convlint")
            data = json.loads(payload)
            if data.get("format") != _FORMAT or data.get("sha256") != sha256 or data.get("path") != self._rel(path):
                raise ValueError("another file's entry")
            deps = {str(k): _dep_from_json(v) for k, v in data["deps"].items()}
            findings = [finding_from_json(f) for f in data["findings"]]
            if any(_fixable(f) for f in findings):
                raise ValueError("fixes are never taken from the cache")
            for dep, h in deps.items():
                if not self._unchanged(dep, h):
                    self.misses += 1
                    return None
        except Exception:
            self.misses += 1
            return None
        self.hits += 1
        return CachedResult(findings, deps)

    def put(self, path: str | os.PathLike[str], sha256: str, findings: Sequence[Finding], deps: Mapping[str, str | None]) -> None:
        """Store a result; silently does nothing if the cache is off or cannot be written.

        A result with a fixable finding is not stored: its file is analysed again next time.
        """
        if not self.writable or self.key_bytes is None:
            return
        if any(_fixable(f) for f in findings):
            return
        try:
            key = self.key(path, sha256)
            entry = self._ready(self._entry(key))
            payload = json.dumps(
                {
                    "format": _FORMAT,
                    "path": self._rel(path),
                    "sha256": sha256,
                    "findings": [finding_to_json(f) for f in findings],
                    "deps": {str(k): v for k, v in sorted(deps.items())},
                },
                sort_keys=True,
                separators=(",", ":"),
            ).encode("utf-8")
            self._atomic_write(entry, _MAGIC + self._mac(key, payload).encode("ascii") + b"\n" + payload)
        except Exception:
            self.writable = False

    # -- whole-run data (the reverse-import scan): one authenticated JSON document per name

    def _blob_key(self, name: str) -> str:
        return hashlib.sha256("\0".join(("blob", str(_FORMAT), self.version, self.fingerprint, name)).encode()).hexdigest()

    def get_blob(self, name: str) -> Any | None:
        """The JSON value stored under ``name`` by :meth:`put_blob`, if present and authentic."""
        from convlint.source.files import read_regular

        if self.key_bytes is None:
            return None
        try:
            key = self._blob_key(name)
            raw = read_regular(self._entry(key), _MAX_BLOB)
            if not raw.startswith(_MAGIC):
                return None
            mac, _, payload = raw[len(_MAGIC):].partition(b"\n")
            if not hmac.compare_digest(mac, self._mac(key, payload).encode("ascii")):
                return None
            data = json.loads(payload)
            return data.get("value") if isinstance(data, dict) and data.get("blob") == name else None
        except Exception:
            return None

    def put_blob(self, name: str, value: Any) -> None:
        """Store a JSON value under ``name``; silently nothing if the cache is off or unwritable."""
        if not self.writable or self.key_bytes is None:
            return
        try:
            key = self._blob_key(name)
            entry = self._ready(self._entry(key))
            payload = json.dumps({"blob": name, "value": value}, separators=(",", ":")).encode("utf-8")
            if len(payload) > _MAX_BLOB - 1024:
                return
            self._atomic_write(entry, _MAGIC + self._mac(key, payload).encode("ascii") + b"\n" + payload)
        except Exception:
            self.writable = False

    def _ready(self, entry: Path) -> Path:
        """``entry``, with the cache directory prepared and the entry's folder created inside it
        (OSError when a link planted in the cache leads elsewhere)."""
        self._prepare()
        entry.parent.mkdir(parents=True, exist_ok=True)
        if not _inside(entry.parent, self.directory):
            raise OSError("the cache directory leads elsewhere")
        return entry

    def _prepare(self) -> None:
        if self._prepared:
            return
        # Never outside the project, whatever links lie on the way (checked before creating anything).
        if not _inside(self.directory, self.root):
            raise OSError("the cache directory is outside the project")
        created = not os.path.lexists(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if not _inside(self.directory, self.root):
            raise OSError("the cache directory is outside the project")
        if not created and not (self.directory / "CACHEDIR.TAG").is_file() and any(os.scandir(self.directory)):
            raise OSError("the cache directory holds files convlint did not write")
        for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", CACHEDIR_TAG)):
            p = self.directory / name
            if not os.path.lexists(p):
                self._atomic_write(p, text.encode("utf-8"))
        self._prepared = True

    @staticmethod
    def _atomic_write(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


# --------------------------------------------------------------------------- parsed modules

_PARSED_FORMAT = 1
_PARSED_MAGIC = b"convlint-parsed 1\n"
_PARSED_ALLOWED = ("libcst._nodes.", "libcst._maybe_sentinel")


class _NodeUnpickler:
    """Unpickles LibCST trees and plain data only: any other class or function named in the
    data (``os.system``, a convlint class, ...) fails the load. Used only on data whose HMAC
    verified, as a second line of defence."""

    @staticmethod
    def loads(payload: bytes) -> Any:
        import io
        import pickle

        import libcst as cst
        from libcst._maybe_sentinel import MaybeSentinel

        class Restricted(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if not (module.startswith(_PARSED_ALLOWED[0]) or module == _PARSED_ALLOWED[1]):
                    raise pickle.UnpicklingError(f"{module}.{name} is not allowed here")
                obj = super().find_class(module, name)
                if not (isinstance(obj, type) and (issubclass(obj, cst.CSTNode) or obj is MaybeSentinel)):
                    raise pickle.UnpicklingError(f"{module}.{name} is not a LibCST node")
                return obj

        return Restricted(io.BytesIO(payload)).load()


class ParseStore:
    """What parsing a module produced, kept across runs, keyed by the module's content hash.

    For an imported module an analysis needs its statement index (from Python's ``ast``, after
    the prescreen) and the LibCST trees of the few statements and function bodies it reached
    (:class:`convlint.source.project.ParsedModule`). Both depend only on the module's text (and
    convlint's and LibCST's versions), so a warm run after an edit re-parses only the edited file
    and what the analysis reaches for the first time.

    Entries live next to the result cache (``<cache>/<version>-parsed/<key[:2]>/<key>.bin``) and
    are guarded the same way (:class:`Cache`): the user's HMAC key authenticates every entry, a
    missing, corrupt or unverified entry is a miss, writes are atomic and stay inside the
    project. The payload is a pickle — read only after its HMAC verified, and even then by an
    unpickler that accepts LibCST node classes and plain data only. Only modules that passed the
    prescreen are stored. Nothing here raises.
    """

    def __init__(self, cache: Cache) -> None:
        import libcst
        import sys

        self.cache = cache
        self.bucket = cache.directory / f"{cache.version}-parsed"
        self._salt = "\0".join(
            (str(_PARSED_FORMAT), cache.version, getattr(libcst, "__version__", "?"), ".".join(map(str, sys.version_info[:2])))
        )
        self.hits = 0
        self.misses = 0

    def _key(self, sha256: str) -> str:
        return hashlib.sha256(f"parsed\0{self._salt}\0{sha256}".encode()).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.bucket / key[:2] / f"{key}.bin"

    @staticmethod
    def segment(blob: Any) -> tuple[str, Any] | None:
        """A stored segment — ``(kind, LibCST module)`` — from its pickled bytes; None if malformed."""
        import libcst as cst

        try:
            kind, module = _NodeUnpickler.loads(blob)
        except Exception:
            return None
        return (kind, module) if isinstance(kind, str) and isinstance(module, cst.Module) else None

    def get(self, sha256: str) -> dict[str, Any] | None:
        """``{"index": data, "segments": {key: pickled (kind, module)}}`` for this content, or None.

        The segments stay pickled until :meth:`segment` is asked for one: an analysis reads the
        few it reaches, not every one some earlier analysis did."""
        from convlint.source.files import read_regular

        if self.cache.key_bytes is None:
            return None
        try:
            key = self._key(sha256)
            raw = read_regular(self._entry(key), _MAX_ENTRY)
            if not raw.startswith(_PARSED_MAGIC):
                raise ValueError("not an entry")
            mac, _, payload = raw[len(_PARSED_MAGIC):].partition(b"\n")
            if not hmac.compare_digest(mac, self.cache._mac(key, payload).encode("ascii")):
                raise ValueError("not written by this user's convlint")
            data = _NodeUnpickler.loads(payload)
            if not isinstance(data, dict) or data.get("format") != _PARSED_FORMAT or data.get("sha256") != sha256:
                raise ValueError("another module's entry")
            if not isinstance(data.get("index"), dict) or not isinstance(data.get("segments"), dict):
                raise ValueError("malformed entry")
        except Exception:
            self.misses += 1
            return None
        self.hits += 1
        return data

    def put(self, sha256: str, index: dict[str, Any], segments: Mapping[Any, Any]) -> None:
        """Store what was parsed of a module (segments: key -> ``(kind, module)``, or the bytes
        :meth:`get` gave); silently does nothing if the cache cannot be written."""
        import pickle

        cache = self.cache
        if not cache.writable or cache.key_bytes is None:
            return
        try:
            key = self._key(sha256)
            entry = cache._ready(self._entry(key))
            blobs = {k: v if isinstance(v, bytes) else pickle.dumps(v, protocol=5) for k, v in segments.items()}
            payload = pickle.dumps({"format": _PARSED_FORMAT, "sha256": sha256, "index": index, "segments": blobs}, protocol=5)
            if len(payload) > _MAX_ENTRY - 1024:
                return
            cache._atomic_write(entry, _PARSED_MAGIC + cache._mac(key, payload).encode("ascii") + b"\n" + payload)
        except RecursionError:
            return  # a tree too deep to pickle: parsed again next time
        except Exception:
            cache.writable = False
