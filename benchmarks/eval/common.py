"""Shared helpers of the evaluation harness (manifest, repository checkouts, entry scripts, ops).

Not part of the convlint package and not imported by it; run the scripts beside this file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.toml"
RUNTIME_DIR = HERE / "runtime"
DEFAULT_REPOS = Path(os.environ.get("CONVLINT_EVAL_REPOS", "/work/repos"))
ENTRY_NAME = "_convlint_eval_entry.py"


@dataclass
class Entry:
    id: str
    repo: str  # owner/name
    commit: str
    framework: str  # "torch" | "flax" | "jax"
    script: str
    entry_dir: str = "."  # where the entry script goes, relative to the checkout
    declared: dict | None = None  # {"target": "file.py::Class", "input": [...] | {...}, "init": {...}}
    status: str = "ok"  # "ok", or why the model is excluded ("runtime-error: ...")
    notes: str = ""
    category: str = ""
    stubs: list = field(default_factory=list)  # import-only dependencies stubbed at run time
    source: str = ""  # the [[repository]] id
    checkout_name: str = ""  # folder under --repos (default: the repository's name)

    @property
    def repo_name(self) -> str:
        return self.repo.split("/", 1)[1]

    def checkout(self, repos: Path) -> Path:
        return repos / (self.checkout_name or self.repo_name)

    @property
    def entry_rel(self) -> str:
        """The entry script's path relative to the checkout (as convlint prints paths)."""
        return os.path.normpath(os.path.join(self.entry_dir, ENTRY_NAME))

    @property
    def script_hash(self) -> str:
        return hashlib.sha256(self.script.encode()).hexdigest()[:16]


def load_manifest(path: Path = MANIFEST) -> tuple[dict[str, dict], list[Entry]]:
    """(repositories by owner/name, entries in manifest order)."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    repos = {r["id"]: r for r in data.get("repository", [])}
    entries = []
    seen = set()
    for m in data.get("model", []):
        r = repos[m["repository"]]
        e = Entry(
            id=m["id"],
            repo=r["repo"],
            commit=r["commit"],
            checkout_name=r.get("checkout", ""),
            source=m["repository"],
            stubs=list(r.get("stubs", [])) + list(m.get("stubs", [])),
            framework=m["framework"],
            script=m["entry"].strip("\n") + "\n",
            entry_dir=m.get("entry_dir", "."),
            declared=m.get("declared"),
            status=m.get("status", "ok"),
            notes=m.get("notes", ""),
            category=m.get("category", ""),
        )
        if e.id in seen:
            raise SystemExit(f"manifest: duplicate id {e.id}")
        seen.add(e.id)
        entries.append(e)
    return repos, entries


def select(entries: list[Entry], ids: list[str] | None, repo: str | None = None) -> list[Entry]:
    out = entries
    if ids:
        wanted = set(ids)
        unknown = wanted - {e.id for e in entries}
        if unknown:
            raise SystemExit(f"unknown model id(s): {', '.join(sorted(unknown))}")
        out = [e for e in out if e.id in wanted]
    if repo:
        out = [e for e in out if repo.lower() in e.repo.lower() or repo == e.source]
    return out


def head_commit(checkout: Path) -> str | None:
    try:
        return subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def check_checkout(entry: Entry, repos: Path) -> str | None:
    """None when the checkout exists at the manifest's commit, else a reason."""
    co = entry.checkout(repos)
    if not co.is_dir():
        return f"no checkout at {co} (see benchmarks/eval/README.md)"
    head = head_commit(co)
    if head != entry.commit:
        return f"{co} is at {head}, the manifest wants {entry.commit}"
    return None


@contextlib.contextmanager
def placed(path: Path, text: str) -> Iterator[Path]:
    """Write ``text`` to ``path`` (which must not exist) and remove it afterwards."""
    if path.exists():
        raise FileExistsError(f"{path} already exists: another run is using it, or one was interrupted (remove it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# ------------------------------------------------------------------------------------ conv-family

# Canonical op names. The runtime recorder and `convlint shapes --format json` both spell ops by
# their qualified public name; a few aliases are folded here so that they compare equal.
_ALIASES = {
    "torch.nn.functional.upsample": "torch.nn.functional.interpolate",
    "flax.linen.pooling.avg_pool": "flax.linen.avg_pool",
    "flax.linen.pooling.max_pool": "flax.linen.max_pool",
    "flax.linen.pooling.min_pool": "flax.linen.min_pool",
    "flax.linen.pooling.pool": "flax.linen.pool",
    "flax.nnx.avg_pool": "flax.linen.avg_pool",
    "flax.nnx.max_pool": "flax.linen.max_pool",
}


def canonical_op(op: str) -> str:
    op = _ALIASES.get(op, op)
    if op.startswith("flax.linen.") and op.count(".") > 2:  # flax.linen.linear.Conv
        op = "flax.linen." + op.rsplit(".", 1)[1]
    return op


def is_conv_family(op: str | None) -> bool:
    """Conv and transposed conv of every framework, pooling, adaptive pooling, upsample/resize."""
    if not op:
        return False
    op = canonical_op(op)
    last = op.rsplit(".", 1)[-1]
    low = last.lower()
    if op.startswith("torch.nn.functional.") or op.startswith("torch."):
        if op.startswith("torch.nn.functional."):
            return (
                low.startswith("conv")
                or "pool" in low
                or low in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear")
            )
        # torch.nn.<Class>
        return (
            (low.startswith("conv") and "convert" not in low)
            or low.startswith("lazyconv")
            or "pool" in low
            or low.startswith("upsampl")
        )
    if op.startswith("flax.linen.") or op.startswith("flax.nnx."):
        return last in ("Conv", "ConvTranspose", "ConvLocal") or low in (
            "avg_pool",
            "max_pool",
            "min_pool",
            "pool",
        )
    if op.startswith("jax."):
        return low.startswith("conv") or low in ("reduce_window", "resize", "scale_and_translate")
    return False


def fully_known(shape: Any) -> bool:
    return isinstance(shape, list) and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)


def python() -> str:
    return sys.executable
