"""Speed of `convlint check` on fetched public repositories, as ratios measured in one run.

    python benchmarks/real_repos.py [--repos DIR] [--repeat 5] [--skip-slow] [--only a,b,...]

The repositories are looked for under ``--repos`` (default ``$CONVLINT_REPOS``, else
``/work/repos``): ``diffusers`` (huggingface/diffusers), ``pytorch-image-models`` (timm) and
``Pytorch-UNet`` (milesial). A case whose repository (or file) is missing is skipped with a
message saying what it looked for. Nothing in the repositories is modified: the warm re-run case
works on a copy.

Cases (issue 14's table; every figure is a ratio of medians of interleaved repetitions):

a. ``convlint check --no-cache`` of one diffusers model file (``autoencoder_kl.py``) against the
   floor ``python -c "import libcst; libcst.parse_module(open(f).read())"`` of that file; target 3x.
b. the same for the 3,600-line ``unet_2d_blocks.py``; target 2x.
c. whole timm, cold (``--no-cache --jobs 1``) against reading every file + the prefilter +
   ``parse_module`` of the files the prefilter admits (one process, serial); target 2x.
d. the prefilter stage (discover + read + prefilter, as the pipeline does it) against ``os.walk``
   + reading the same files (in-process); target 1.5x.
e. a warm re-run of whole timm after editing one model file against a warm check of that file
   alone (on a copy of timm, with the result cache on); target 1.2x.
f. the runtime alternative: ``import torch`` + building the model on the meta device (the models
   that can be imported here) against ``convlint check --no-cache`` of the model's file.
h. the pre-commit hook on a copy of diffusers with a warm cache: ``check autoencoder_kl.py`` after an
   edit of it (a comment at its end), again with nothing changed, and after an edit inside its model
   class (which its importers' cached results read: they are analysed again), against the floor of
   (a) (issue 14's "done when").
   (a) and (b) are also measured with ``--max-importers 0``: the file alone, without the files that
   import it.
g. peak memory (``ru_maxrss`` of the child processes) of a cold check of the whole of diffusers,
   and its time against the floor of (c) for diffusers; target < 1 GB and 2x. One run each
   (``--skip-slow`` leaves it out).

The machine may be shared and loaded: only ratios measured in the same run are meant to be
compared; absolute times are printed for context. Subprocesses use the same interpreter and
inherit ``PYTHONPATH`` (point it at another checkout to measure that one). Bytecode is cached
for them in a temporary ``PYTHONPYCACHEPREFIX`` (even under ``PYTHONDONTWRITEBYTECODE``), as an
installed convlint has its ``.pyc`` files: otherwise every run would compile convlint afresh.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

PY = sys.executable

AKL = "src/diffusers/models/autoencoders/autoencoder_kl.py"
BLOCKS = "src/diffusers/models/unets/unet_2d_blocks.py"
TIMM_EDIT = "timm/models/resnet.py"

FLOOR_ONE = "import libcst, sys; libcst.parse_module(open(sys.argv[1], encoding='utf-8').read())"

# read every .py file under a folder (hidden and build folders skipped, as discovery skips them),
# run convlint's prefilter on the bytes, LibCST-parse what it admits
FLOOR_REPO = r"""
import os, sys
import libcst
from convlint.source.prefilter import may_contain_conv
SKIP = {"build", "dist", "node_modules", "__pycache__", "site-packages", "venv"}
n = 0
for d, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x not in SKIP)
    for f in sorted(files):
        if f.endswith((".py", ".pyi")):
            with open(os.path.join(d, f), "rb") as fh:
                data = fh.read()
            if may_contain_conv(data):
                try:
                    libcst.parse_module(data.decode("utf-8"))
                except Exception:
                    pass
                n += 1
print(n)
"""


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-500:]}")
    return dt


def interleave(fns: list[Callable[[], float]], repeat: int, warmup: bool = True) -> list[float]:
    """Median seconds of each function, run alternately ``repeat`` times (after one warm-up)."""
    for fn in fns if warmup else ():
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            times[i].append(fn())
    return [statistics.median(t) for t in times]


def convlint(*args: str) -> list[str]:
    return [PY, "-m", "convlint", "check", "--quiet", "--exit-zero", *args]


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def ratio(self, what: str, num: float, den: float, target: str) -> None:
        row = (what, f"{num / den:.2f}x", f"{num:.2f} s / {den:.2f} s", target)
        self.rows.append(row)
        print(f"  {row[0]}: {row[1]} ({row[2]}; target {row[3]})", flush=True)

    def value(self, what: str, value: str, detail: str, target: str) -> None:
        row = (what, value, detail, target)
        self.rows.append(row)
        print(f"  {what}: {value} ({detail}; target {target})", flush=True)

    def skip(self, what: str, why: str) -> None:
        self.rows.append((what, "skipped", why, ""))
        print(f"  {what}: skipped — {why}", flush=True)

    def table(self) -> str:
        lines = ["| case | ratio | measured | target |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(lines)


def need(path: Path, report: Report, what: str) -> bool:
    if path.exists():
        return True
    report.skip(what, f"{path} not found (fetch the repository, or pass --repos DIR / set CONVLINT_REPOS)")
    return False


# --------------------------------------------------------------------------- cases


def case_one_file(report: Report, repo: Path, rel: str, what: str, target: str, repeat: int, extra: tuple = ()) -> None:
    if not need(repo / rel, report, what):
        return
    check, floor = interleave(
        [lambda: run(convlint("--no-cache", *extra, rel), repo), lambda: run([PY, "-c", FLOOR_ONE, rel], repo)], repeat
    )
    report.ratio(what, check, floor, target)


@contextmanager
def edited_copy(repo: Path, rel: str):
    """A temporary copy of ``repo`` (no .git, no cache), the environment that keeps convlint's cache
    key outside it, and ``edit()``, which appends a different comment to ``rel`` at each call."""
    with tempfile.TemporaryDirectory(prefix="convlint-bench-") as tmp:
        copy = Path(tmp) / repo.name
        shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git", ".convlint_cache", "__pycache__"))
        env = dict(os.environ, XDG_CACHE_HOME=str(Path(tmp) / "xdg"))  # the cache key, outside the copy
        edited = copy / rel
        original = edited.read_text(encoding="utf-8")
        counter = [0]

        def edit(before: str | None = None) -> None:
            """A new comment at the end of the file, or on a line of its own before the first line
            that starts with ``before`` (inside a class: its statement's text changes)."""
            counter[0] += 1
            if before is None:
                edited.write_text(original + f"\n# edit {counter[0]}\n", encoding="utf-8")
                return
            lines = original.splitlines(keepends=True)
            at = next(i for i, line in enumerate(lines) if line.startswith(before))
            indent = before[: len(before) - len(before.lstrip())]
            edited.write_text("".join(lines[:at] + [f"{indent}# edit {counter[0]}\n"] + lines[at:]), encoding="utf-8")

        yield copy, env, edit


def case_hook(report: Report, repo: Path, repeat: int) -> None:
    """The pre-commit hook on a copy of diffusers with a warm cache: ``check autoencoder_kl.py``
    after an edit of it (a comment at its end: the importers' results stay, their statements
    read are unchanged), again with nothing changed, and after an edit inside its model class (the
    importers that ran the class are analysed again)."""
    what = "hook after editing autoencoder_kl.py, warm cache / parse_module of it"
    if not need(repo / AKL, report, what):
        return
    with edited_copy(repo, AKL) as (copy, env, edit):

        def after_edit() -> float:
            edit()
            return run(convlint(AKL), copy, env)

        run(convlint(AKL), copy, env)  # warm the cache
        a, floor = interleave([after_edit, lambda: run([PY, "-c", FLOOR_ONE, AKL], copy)], repeat, warmup=False)
        report.ratio(what, a, floor, "about 1x (issue 14)")
        b, floor = interleave([lambda: run(convlint(AKL), copy, env), lambda: run([PY, "-c", FLOOR_ONE, AKL], copy)], repeat)
        report.ratio("hook run again, nothing changed / parse_module of it", b, floor, "below the above")

        def after_class_edit() -> float:  # the model class's statement changes: its importers run again
            edit(before="    def __init__(")
            return run(convlint(AKL), copy, env)

        c, floor = interleave([after_class_edit, lambda: run([PY, "-c", FLOOR_ONE, AKL], copy)], repeat)
        report.ratio("hook after an edit inside the model class (importers re-analysed) / parse_module", c, floor, "informative")


def case_repo_cold(report: Report, repo: Path, what: str, target: str, repeat: int) -> None:
    if not need(repo, report, what):
        return
    check, floor = interleave(
        [lambda: run(convlint("--no-cache", "--jobs", "1", "."), repo), lambda: run([PY, "-c", FLOOR_REPO, "."], repo)], repeat, warmup=False
    )
    report.ratio(what, check, floor, target)


def case_prefilter(report: Report, repo: Path, repeat: int) -> None:
    what = "prefilter stage (discover + read + prefilter) / os.walk + read, timm"
    if not need(repo, report, what):
        return
    from convlint.config import load_config
    from convlint.source.discover import discover
    from convlint.source.files import ReadError, read_source
    from convlint.source.prefilter import may_contain_conv

    config = load_config([str(repo)], cwd=repo)

    def stage() -> float:
        t = time.perf_counter()
        found = discover(["."], root=config.root, exclude=config.exclude, extend_exclude=config.extend_exclude,
                         respect_gitignore=config.respect_gitignore, cwd=repo)
        for p in found.files:
            src = read_source(p, config.max_file_size)
            if not isinstance(src, ReadError):
                may_contain_conv(src.data)
        return time.perf_counter() - t

    def walk_read() -> float:
        t = time.perf_counter()
        for d, dirs, files in os.walk(repo):
            dirs[:] = [x for x in dirs if not x.startswith(".")]
            for f in files:
                if f.endswith((".py", ".pyi")):
                    with open(os.path.join(d, f), "rb") as fh:
                        fh.read()
        return time.perf_counter() - t

    # in-process and fast: many more repetitions than the subprocess cases
    a, b = interleave([stage, walk_read], max(repeat * 4, 11))
    report.ratio(what, a, b, "1.5x")


def case_warm_edit(report: Report, repo: Path, repeat: int) -> None:
    what = "warm re-run of whole timm after editing one file / warm check of that file alone"
    if not need(repo / TIMM_EDIT, report, what):
        return
    with edited_copy(repo, TIMM_EDIT) as (copy, env, edit):
        run(convlint("--jobs", "1", "."), copy, env)  # warm the cache

        def whole() -> float:
            edit()
            return run(convlint("--jobs", "1", "."), copy, env)

        def alone() -> float:
            edit()
            return run(convlint("--jobs", "1", TIMM_EDIT), copy, env)

        a, b = interleave([whole, alone], repeat, warmup=False)  # the first run above warmed up
        report.ratio(what, a, b, "1.2x")


RUNTIME = {
    "Pytorch-UNet": (
        "unet/unet_model.py",
        "import sys, torch; sys.path.insert(0, '.');"
        "from unet.unet_model import UNet\n"
        "with torch.device('meta'): UNet(3, 2)",
    ),
    "diffusers": (
        AKL,
        "import sys, torch; sys.path.insert(0, 'src');"
        "from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL\n"
        "with torch.device('meta'): AutoencoderKL()",
    ),
}


def case_runtime(report: Report, repos: Path, repeat: int) -> None:
    for name, (rel, code) in RUNTIME.items():
        what = f"check --no-cache / import torch + build on meta, {name} ({Path(rel).name})"
        repo = repos / name
        if not need(repo / rel, report, what):
            continue
        probe = subprocess.run([PY, "-c", code], cwd=repo, capture_output=True, text=True)
        if probe.returncode != 0:
            last = (probe.stderr.strip().splitlines() or ["?"])[-1]
            report.skip(what, f"the model cannot be built here ({last})")
            continue
        check, rt = interleave([lambda: run(convlint("--no-cache", rel), repo), lambda: run([PY, "-c", code], repo)], repeat)
        report.ratio(what, check, rt, "informative")


def case_memory(report: Report, repo: Path) -> None:
    what = "whole diffusers, cold: peak memory and time / floor"
    if not need(repo, report, what):
        return
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
    )
    out = subprocess.run([PY, "-c", probe, *convlint("--no-cache", "--jobs", "1", ".")], cwd=repo, capture_output=True, text=True)
    try:
        secs, rss_kb, rc = out.stdout.split()
    except ValueError:
        report.skip(what, f"the probe failed: {out.stderr.strip()[-300:]}")
        return
    if rc not in ("0", "1"):
        report.skip(what, f"convlint exited {rc}")
        return
    floor = run([PY, "-c", FLOOR_REPO, "."], repo)
    report.value("whole diffusers, cold: peak memory (ru_maxrss of children)", f"{int(rss_kb) / 1024:.0f} MB", "--jobs 1, one run", "< 1024 MB")
    report.ratio("whole diffusers, cold / read + prefilter + parse_module (one run each)", float(secs), floor, "2x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repos", default=os.environ.get("CONVLINT_REPOS", "/work/repos"), help="folder holding the fetched repositories")
    ap.add_argument("--repeat", type=int, default=5, help="interleaved repetitions per subprocess case (median)")
    ap.add_argument("--skip-slow", action="store_true", help="leave out the whole-diffusers case (g)")
    ap.add_argument("--only", default="", help="comma-separated case letters (a-h)")
    args = ap.parse_args(argv)
    repos = Path(args.repos)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", tempfile.mkdtemp(prefix="convlint-bench-pyc-"))
    only = set(args.only.replace(" ", "").split(",")) - {""}
    want = lambda c: not only or c in only  # noqa: E731
    report = Report()
    diffusers, timm = repos / "diffusers", repos / "pytorch-image-models"
    print(f"convlint real-repository benchmark — {PY}, repos in {repos}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    if want("a"):
        case_one_file(report, diffusers, AKL, "check --no-cache autoencoder_kl.py / parse_module of it", "3x", args.repeat)
        case_one_file(report, diffusers, AKL, "the same, --max-importers 0 (the file alone)", "3x", args.repeat, ("--max-importers", "0"))
    if want("b"):
        case_one_file(report, diffusers, BLOCKS, "check --no-cache unet_2d_blocks.py / parse_module of it", "2x", args.repeat)
        case_one_file(report, diffusers, BLOCKS, "the same, --max-importers 0 (the file alone)", "2x", args.repeat, ("--max-importers", "0"))
    if want("c"):
        case_repo_cold(report, timm, "whole timm, cold / read + prefilter + parse_module of admitted files", "2x", max(1, args.repeat // 2))
    if want("d"):
        case_prefilter(report, timm, args.repeat)
    if want("e"):
        case_warm_edit(report, timm, args.repeat)
    if want("f"):
        case_runtime(report, repos, args.repeat)
    if want("h"):
        case_hook(report, diffusers, args.repeat)
    if want("g") and not args.skip_slow:
        case_memory(report, diffusers)
    print()
    print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
