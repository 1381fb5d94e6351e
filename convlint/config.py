"""Configuration: ``[tool.convlint]`` in pyproject.toml, or a ``convlint.toml``.

Where it comes from: ``--config FILE`` (a ``pyproject.toml`` read at ``[tool.convlint]``, or any
other TOML file — ``convlint.toml``, ``.convlint.toml`` — read at the top level), else the nearest
``.convlint.toml``, ``convlint.toml`` or ``pyproject.toml`` with a ``[tool.convlint]`` table found
upward from the first path checked. Its directory is :attr:`Config.root` (the current directory
when there is no file): relative excludes, per-file-ignores and model targets are taken from there.

Keys (kebab-case as in ruff; snake_case accepted too)::

    select, ignore, extend-select, extend-ignore   # lists of code selectors
    exclude, extend-exclude                        # lists of globs (both add to the built-in skips)
    per-file-ignores = { "glob" = ["CVL004"] }
    respect-gitignore = true
    jobs = 0                                       # 0 = one per CPU; default 1
    cache = true
    cache-dir = ".convlint_cache"
    max-file-size = 5242880                        # bytes, or "5MB", "512KB"; 0 = no limit
    max-importers = 2                              # files importing a given file analysed too; 0 = none

    [[tool.convlint.model]]
    target = "models/vae.py::VanillaVAE"
    input = [16, 3, 64, 64]                        # or a table by parameter: { x = [...], t = [16] }
    output = [16, 3, 64, 64]                       # optional
    init = { in_channels = 3 }                     # optional, constructor arguments

A code selector is a full code (``CVL004``), a prefix (``CVL00``, ``CVL``) or ``ALL``. Selection
follows ruff: layers (the file, then the command line) are applied in order; within a layer the
most specific matching selector wins and ``ignore`` wins a tie; a layer with ``select`` starts
from nothing, one without starts from the previous result. Without any ``select``, the default
is every rule whose ``default_enabled`` is true (CVL008 is off by default). A prefix or ``ALL``
also turns on rules that are off by default.

Every problem raises :class:`ConfigError` whose message is one line naming the file, the key and
the problem; the CLI prints it as ``convlint: error: ...`` and exits 2. ``--config`` naming a
folder (``--config /``) is such an error, saying that it is a folder. A configuration file found
by the upward search that cannot be read (permissions) is skipped with a warning that names it
(:attr:`Config.warnings`): the search goes on upward, as if it were not there.

When the selection ends up empty (``--select ''``, ``select = []``, ``--ignore ALL``),
:attr:`Config.selection_note` says which setting emptied it; ``convlint check`` refuses to run
with no rule selected.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from convlint.errors import UsageError
from convlint.source.importers import DEFAULT_MAX_IMPORTERS

__all__ = [
    "CONFIG_FILE_NAMES",
    "DEFAULT_CACHE_DIR",
    "Config",
    "ConfigError",
    "ModelSpec",
    "SelectionLayer",
    "find_config_file",
    "known_codes",
    "load_config",
    "parse_selectors",
]

CONFIG_FILE_NAMES = (".convlint.toml", "convlint.toml", "pyproject.toml")
DEFAULT_CACHE_DIR = ".convlint_cache"
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024
MAX_CONFIG_SIZE = 4 * 1024 * 1024  # bytes: a bigger pyproject.toml is refused

Shape = tuple  # of int | str


class ConfigError(UsageError):
    """A configuration or option problem, described in one line."""


# --------------------------------------------------------------------------- rule codes

def known_codes() -> dict[str, bool]:
    """Every rule code -> whether it is enabled by default (``convlint.rules.codes``: the rule
    modules themselves are imported only when something is analysed or documented)."""
    from convlint.rules.codes import CODES

    return dict(CODES)


_SELECTOR = re.compile(r"^[A-Z]+[0-9]*$")


def parse_selectors(values: Iterable[str], codes: Iterable[str], where: str) -> tuple[str, ...]:
    """Validate code selectors (``CVL004``, ``CVL00``, ``CVL``, ``ALL``); upper-case them.

    ``where`` names the source in the error message (``pyproject.toml: select``, ``--select``).
    """
    codes = list(codes)
    out: list[str] = []
    for raw in values:
        if not isinstance(raw, str):
            raise ConfigError(f"{where}: expected a rule code, got {raw!r}")
        sel = raw.strip().upper()
        if not sel:
            continue
        if sel == "ALL":
            out.append(sel)
            continue
        if not _SELECTOR.match(sel) or not any(c.startswith(sel) for c in codes):
            hint = f" (known codes: {codes[0]}..{codes[-1]})" if codes else ""
            raise ConfigError(f"{where}: unknown rule code or prefix {raw!r}{hint}")
        out.append(sel)
    return tuple(out)


def _specificity(selector: str, code: str) -> int:
    """-1 if ``selector`` does not match ``code``, else how specific it is (ALL = 0)."""
    if selector == "ALL":
        return 0
    return len(selector) if code.startswith(selector) else -1


@dataclass(frozen=True)
class SelectionLayer:
    """One layer of rule selection: the config file's, or the command line's."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def apply(self, enabled: frozenset[str], codes: Sequence[str]) -> frozenset[str]:
        on_sel = (self.select or ()) + self.extend_select
        carry = frozenset() if self.select is not None else enabled
        out = set()
        for code in codes:
            on = max((_specificity(s, code) for s in on_sel), default=-1)
            off = max((_specificity(s, code) for s in self.ignore), default=-1)
            if on >= 0 and on > off:
                out.add(code)
            elif off >= 0:
                continue
            elif code in carry:
                out.add(code)
        return frozenset(out)


# --------------------------------------------------------------------------- model declarations


@dataclass(frozen=True)
class ModelSpec:
    """A ``[[tool.convlint.model]]`` entry: which model to run, with which shapes.

    ``input`` is one shape (a tuple of ints and symbolic names) or a dict parameter -> shape.
    ``path`` is absolute (``target``'s file, relative to the config root); ``name`` the class or
    function (``<module>`` for script code).
    """

    target: str
    path: Path
    name: str
    input: Shape | dict[str, Shape]
    output: Shape | None = None
    init: dict[str, Any] = field(default_factory=dict)
    call: dict[str, Any] = field(default_factory=dict)  # keyword arguments for forward / __call__ / apply
    dtypes: dict[str, str] = field(default_factory=dict)  # parameter -> dtype, where declared

    def to_json(self) -> dict[str, Any]:
        inp = {k: list(v) for k, v in self.input.items()} if isinstance(self.input, dict) else list(self.input)
        return {
            "target": self.target,
            "input": inp,
            "output": list(self.output) if self.output is not None else None,
            "init": self.init,
            "call": self.call,
            "dtypes": self.dtypes,
        }


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TARGET_NAME = re.compile(r"^(?:<module>|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")


def _shape(value: Any, where: str) -> Shape:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a shape (a list of ints and names), got {_tname(value)}")
    out: list[int | str] = []
    for dim in value:
        if isinstance(dim, bool) or not isinstance(dim, (int, str)):
            raise ConfigError(f"{where}: a shape entry must be an int or a name, got {dim!r}")
        if isinstance(dim, int) and dim < 0:
            raise ConfigError(f"{where}: a shape entry must not be negative, got {dim}")
        if isinstance(dim, str) and not _IDENT.match(dim):
            raise ConfigError(f"{where}: a symbolic size must be an identifier, got {dim!r}")
        out.append(dim)
    return tuple(out)


def _model(entry: Any, where: str, root: Path) -> ModelSpec:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table, got {_tname(entry)}")
    allowed = {"target", "input", "output", "init", "call"}
    for key in entry:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} (expected one of: {', '.join(sorted(allowed))})")
    target = entry.get("target")
    if not isinstance(target, str):
        raise ConfigError(f"{where}.target: required, a string \"path.py::Name\"")
    file_part, sep, name = target.rpartition("::")
    if not sep or not file_part or not _TARGET_NAME.match(name):
        raise ConfigError(f"{where}.target: expected \"path.py::Name\", got {target!r}")
    if "input" not in entry:
        raise ConfigError(f"{where}.input: required (a shape, or a table parameter -> shape)")
    raw_in = entry["input"]
    inp: Shape | dict[str, Shape]
    dtypes: dict[str, str] = {}
    if isinstance(raw_in, dict):
        if not raw_in:
            raise ConfigError(f"{where}.input: the table of parameters is empty")
        inp = {}
        for k, v in raw_in.items():
            if not _IDENT.match(k):
                raise ConfigError(f"{where}.input: {k!r} is not a parameter name")
            if isinstance(v, dict):  # { shape = [1], dtype = "int64" }
                extra = set(v) - {"shape", "dtype"}
                if extra or "shape" not in v:
                    raise ConfigError(f"{where}.input.{k}: expected a shape, or a table {{ shape = [...], dtype = \"...\" }}")
                dtype = v.get("dtype")
                if dtype is not None:
                    if not isinstance(dtype, str) or dtype not in DTYPES:
                        raise ConfigError(f"{where}.input.{k}.dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
                    dtypes[k] = dtype
                v = v["shape"]
            inp[k] = _shape(v, f"{where}.input.{k}")
    else:
        inp = _shape(raw_in, f"{where}.input")
    out = _shape(entry["output"], f"{where}.output") if "output" in entry else None
    init = entry.get("init", {})
    if not isinstance(init, dict):
        raise ConfigError(f"{where}.init: expected a table of constructor arguments, got {_tname(init)}")
    call = entry.get("call", {})
    if not isinstance(call, dict):
        raise ConfigError(f"{where}.call: expected a table of keyword arguments for forward/__call__, got {_tname(call)}")
    path = Path(os.path.normpath(root / file_part))
    return ModelSpec(target, path, name, inp, out, dict(init), dict(call), dtypes)


# dtypes a declared input may have (torch and numpy spellings)
DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool", "complex64")


# --------------------------------------------------------------------------- the config


@dataclass(frozen=True)
class Config:
    """The resolved configuration of one run."""

    root: Path
    path: Path | None = None  # the file it was read from
    selected: frozenset[str] = frozenset()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    jobs: int = 1
    cache: bool = True
    cache_dir: Path | None = None
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    max_importers: int = DEFAULT_MAX_IMPORTERS
    models: tuple[ModelSpec, ...] = ()
    # --confirm (command line only): "layers" or "model", sizes for symbolic dims, seconds per model
    confirm: str | None = None
    confirm_sizes: tuple[tuple[str, int], ...] = ()
    confirm_timeout: float | None = None
    # what the user should hear about, not part of the configuration (not in the fingerprint)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    selection_note: str | None = field(default=None, compare=False)  # why nothing is selected

    @property
    def cache_path(self) -> Path:
        """Where the cache lives (``cache-dir``, default ``<root>/.convlint_cache``)."""
        return self.cache_dir if self.cache_dir is not None else self.root / DEFAULT_CACHE_DIR

    def fingerprint(self) -> str:
        """A stable hash of every setting that can change what the analysis finds.

        Selection is included (an engine may skip work for rules that are off); discovery, cache
        and parallelism settings are not.
        """
        data = {
            "root": self.root.as_posix(),
            "selected": sorted(self.selected),
            "models": [m.to_json() for m in self.models],
        }
        if self.confirm:  # --confirm also turns the cache off; this keeps a stray entry apart
            data["confirm"] = [self.confirm, sorted(self.confirm_sizes)]
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def _ignored_for(self, path: str | os.PathLike[str]) -> frozenset[str]:
        if not self.per_file_ignores:
            return frozenset()
        from convlint.source.discover import compile_pattern

        p = Path(os.path.abspath(path))
        try:
            rel = p.relative_to(self.root).as_posix()
        except ValueError:
            rel = None
        out: set[str] = set()
        for glob, codes in self.per_file_ignores:
            pat = compile_pattern(glob)
            if pat is None:
                continue
            if (rel is not None and pat.matches(rel, False)) or (not pat.anchored and pat.matches(p.name, False)):
                out |= codes
        return frozenset(out)

    def is_selected(self, code: str, path: str | os.PathLike[str] | None = None) -> bool:
        """Is ``code`` reported (for ``path``, given ``per-file-ignores``)?"""
        if code not in self.selected:
            return False
        if path is None or not self.per_file_ignores:
            return True
        return not any(_specificity(sel, code) >= 0 for sel in self._ignored_for(path))

    @classmethod
    def default(cls, root: str | os.PathLike[str] | None = None) -> "Config":
        """The configuration used when there is no file and no option."""
        codes = known_codes()
        return cls(root=Path(os.path.abspath(root or os.getcwd())), selected=frozenset(c for c, on in codes.items() if on))


# --------------------------------------------------------------------------- reading files

_KEYS: dict[str, str] = {
    # kebab-case key -> expected kind
    "select": "codes",
    "ignore": "codes",
    "extend-select": "codes",
    "extend-ignore": "codes",
    "exclude": "globs",
    "extend-exclude": "globs",
    "per-file-ignores": "per-file",
    "respect-gitignore": "bool",
    "jobs": "int",
    "cache": "bool",
    "cache-dir": "str",
    "max-file-size": "size",
    "max-importers": "int",
    "model": "models",
}


def _tname(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a table"}.get(
        type(v), type(v).__name__
    )


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    from convlint.source.files import read_regular

    try:
        data = read_regular(path, MAX_CONFIG_SIZE)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None


def _section(path: Path, data: dict[str, Any]) -> dict[str, Any] | None:
    """The convlint table of a parsed file (None if a pyproject.toml has none)."""
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        sec = tool.get("convlint") if isinstance(tool, dict) else None
        if sec is None:
            return None
        if not isinstance(sec, dict):
            raise ConfigError(f"{path}: [tool.convlint] must be a table")
        return sec
    return data


def find_config_file(start: str | os.PathLike[str], warnings: list[str] | None = None) -> Path | None:
    """The nearest config file at or above ``start`` (a file or directory).

    A candidate that exists but cannot be read is skipped; a line naming it is appended to
    ``warnings`` when given.
    """
    from convlint.source.files import read_regular

    p = Path(os.path.abspath(start))
    d = p if p.is_dir() else p.parent
    for cand_dir in (d, *d.parents):
        for name in CONFIG_FILE_NAMES:
            f = cand_dir / name
            if not f.is_file():
                continue
            try:
                # a regular file of bounded size (not a FIFO, a device, or a huge file)
                data = read_regular(f, MAX_CONFIG_SIZE) if name == "pyproject.toml" else read_regular(f, 0)
            except OSError as exc:
                if warnings is not None:
                    warnings.append(f"cannot read {f}: {(exc.strerror or type(exc).__name__).lower()}; its settings are not used")
                continue
            if name != "pyproject.toml":
                return f
            text = data.decode("utf-8", errors="replace")
            if "convlint" in text and re.search(r"^\s*\[\[?\s*tool\s*\.\s*convlint\b", text, re.M):
                return f
    return None


def _parse_size(v: Any, where: str) -> int:
    if isinstance(v, bool):
        raise ConfigError(f"{where}: expected a size in bytes or a string like \"5MB\", got a boolean")
    if isinstance(v, int):
        if v < 0:
            raise ConfigError(f"{where}: must not be negative")
        return v
    if isinstance(v, str):
        m = re.fullmatch(r"\s*(\d+)\s*([KMG]?i?B?)\s*", v, re.I)
        if m:
            unit = m.group(2).upper().rstrip("B").rstrip("I")
            return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]
    raise ConfigError(f"{where}: expected a size in bytes or a string like \"5MB\", got {v!r}")


def _check_cache_dir(value: str, root: Path, where: str) -> None:
    """``cache-dir`` must name a folder strictly inside the project (links followed): convlint
    writes there, and a repository must not steer it into writing anywhere else."""
    if "\0" in value:
        raise ConfigError(f"{where}: not a valid path: {value!r}")
    target = Path(os.path.normpath(root / value))
    real_root = Path(os.path.realpath(root))
    for candidate, base in ((target, root), (Path(os.path.realpath(target)), real_root)):
        try:
            rel = candidate.relative_to(base)
        except ValueError:
            raise ConfigError(f"{where}: must be a folder inside the project ({root}), got {value!r}") from None
        if not rel.parts:
            raise ConfigError(f"{where}: must be a folder inside the project, not the project folder itself, got {value!r}")


def _settings(path: Path, sec: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """Validate a convlint table; return normalised settings keyed by kebab-case name."""
    where_base = f"{path}: " + ("tool.convlint." if path.name == "pyproject.toml" else "")
    codes = list(known_codes())
    out: dict[str, Any] = {}
    for raw_key, value in sec.items():
        key = raw_key.replace("_", "-")
        where = where_base + raw_key
        kind = _KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{where}: unknown key (expected one of: {', '.join(sorted(_KEYS))})")
        if key in out:
            raise ConfigError(f"{where}: given twice (as kebab-case and snake_case)")
        if kind in ("codes", "globs"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of strings, got {_tname(value)}")
            out[key] = parse_selectors(value, codes, where) if kind == "codes" else tuple(value)
        elif kind == "per-file":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: expected a table of glob = [codes], got {_tname(value)}")
            pfi = []
            for glob, sel in value.items():
                if not isinstance(sel, list) or not all(isinstance(v, str) for v in sel):
                    raise ConfigError(f"{where}.{glob!r}: expected a list of rule codes, got {_tname(sel)}")
                pfi.append((glob, frozenset(parse_selectors(sel, codes, f"{where}.{glob!r}"))))
            out[key] = tuple(sorted(pfi, key=lambda t: t[0]))
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {_tname(value)}")
            out[key] = value
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where}: expected a non-negative integer, got {value!r}")
            out[key] = value
        elif kind == "str":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: expected a path string, got {_tname(value)}")
            if key == "cache-dir":
                _check_cache_dir(value, root, where)
            out[key] = value
        elif kind == "size":
            out[key] = _parse_size(value, where)
        elif kind == "models":
            if isinstance(value, dict):
                value = [value]
            if not isinstance(value, list):
                raise ConfigError(f"{where}: expected [[tool.convlint.model]] tables, got {_tname(value)}")
            out[key] = tuple(_model(e, f"{where}[{i}]", root) for i, e in enumerate(value))
    return out


def load_config(
    paths: Sequence[str | os.PathLike[str]] = (),
    *,
    config_file: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    select: Sequence[str] | None = None,
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    jobs: int | None = None,
    cache: bool | None = None,
    isolated: bool = False,
) -> Config:
    """Find, read and validate the configuration; apply command-line overrides.

    ``select`` / ``extend_select`` / ``ignore`` are the command line's selectors (validated here,
    errors name ``--select`` etc.). ``isolated`` ignores every file. Raises :class:`ConfigError`.
    """
    base = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    path: Path | None = None
    sec: dict[str, Any] = {}
    warnings: list[str] = []
    if config_file is not None:
        path = Path(os.path.abspath(base / config_file))
        if path.is_dir():
            inside = [n for n in CONFIG_FILE_NAMES if (path / n).is_file()]
            hint = f"; did you mean --config {os.path.normpath(os.path.join(os.fspath(config_file), inside[0]))}?" if inside else " (give a pyproject.toml or a convlint.toml)"
            raise ConfigError(f"--config: {os.fspath(config_file)} is a directory, not a configuration file{hint}")
        if not path.is_file():
            if os.path.lexists(path):
                raise ConfigError(f"--config: {os.fspath(config_file)} is not a regular file")
            raise ConfigError(f"--config: no such file: {config_file}")
        found = _section(path, _load_toml(path))
        if found is None:
            raise ConfigError(f"{path}: has no [tool.convlint] table")
        sec = found
    elif not isolated:
        start = base / paths[0] if paths else base
        path = find_config_file(start if start.exists() else base, warnings)
        if path is not None:
            sec = _section(path, _load_toml(path)) or {}
    root = path.parent if path is not None else base
    s = _settings(path, sec, root) if path is not None else {}

    codes = known_codes()
    order = list(codes)
    enabled = frozenset(c for c, on in codes.items() if on)
    file_layer = SelectionLayer(
        select=s.get("select"),
        extend_select=s.get("extend-select", ()),
        ignore=s.get("ignore", ()) + s.get("extend-ignore", ()),
    )
    enabled = file_layer.apply(enabled, order)
    note: str | None = None
    if not enabled:
        shown = os.path.relpath(path, base) if path is not None and not os.path.relpath(path, base).startswith("..") else str(path)
        keys = [f"{k} = {_toml_list(s[k])}" for k in ("select", "extend-select", "ignore", "extend-ignore") if k in s]
        note = f"{', '.join(keys) or 'its selection'} in {shown}"
    cli_layer = SelectionLayer(
        select=parse_selectors(_split(select), order, "--select") if select is not None else None,
        extend_select=parse_selectors(_split(extend_select), order, "--extend-select"),
        ignore=parse_selectors(_split(ignore), order, "--ignore"),
    )
    before = enabled
    enabled = cli_layer.apply(enabled, order)
    if not enabled and (before or select is not None):
        opts = [f"--select {_quote(v)}" for v in select or ()] if select is not None else []
        opts += [f"--ignore {_quote(v)}" for v in ignore]
        note = " ".join(opts) if opts else note
    if enabled:
        note = None

    cache_dir = s.get("cache-dir")
    return Config(
        root=root,
        path=path,
        selected=enabled,
        per_file_ignores=s.get("per-file-ignores", ()),
        exclude=s.get("exclude", ()),
        extend_exclude=s.get("extend-exclude", ()),
        respect_gitignore=s.get("respect-gitignore", True),
        jobs=jobs if jobs is not None else s.get("jobs", 1),
        cache=cache if cache is not None else s.get("cache", True),
        cache_dir=Path(os.path.normpath(root / cache_dir)) if cache_dir else None,
        max_file_size=s.get("max-file-size", DEFAULT_MAX_FILE_SIZE),
        max_importers=s.get("max-importers", DEFAULT_MAX_IMPORTERS),
        models=s.get("model", ()),
        warnings=tuple(warnings),
        selection_note=note,
    )


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def _quote(value: str) -> str:
    """A command-line option value as the user would type it (``''`` for an empty one)."""
    import shlex

    return shlex.quote(value)


def _split(values: Sequence[str] | None) -> list[str]:
    """Command-line selectors: repeated options and comma-separated lists."""
    out: list[str] = []
    for v in values or ():
        out.extend(x for x in v.split(",") if x.strip())
    return out
