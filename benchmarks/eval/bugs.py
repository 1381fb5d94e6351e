"""Planted bugs: does convlint find a one-line mutation that breaks a real model?

    python benchmarks/eval/bugs.py [BUG_ID ...] [--model ID] [--convlint /work/main]
                                   [--repos /work/repos] [--timeout 120] [--json bugs.json]

For each ``[[bug]]`` of ``bugs.toml``:

1. the line must hold ``original`` exactly once and the file must be unmodified in git;
2. convlint ``check`` runs on the clean code first (both modes below), so that findings that were
   already there do not count;
3. the mutation is written into the checkout (restored in ``finally``, then verified with
   ``git -C <checkout> diff --quiet -- <file>``; the run stops if that fails);
4. the runtime recorder runs the model's entry script on the mutated code: the bug counts only
   if the model now fails (an exception) or its output shapes differ (for an entry script with no
   ``out``: the last conv-family layer's output differs);
5. convlint ``check --format json`` runs (a) on the entry script — the model as declared by the
   script — and (b) on the mutated file alone, with nothing declared.

A finding counts when its severity is error or warning and it is new (not in the clean run). It is
"at the line" when the mutated line lies within the finding's line..end_line, else "in the file"
when it is in the mutated file. Printed: per bug, what the runtime did and what each mode found;
then the counts found-at-line / found-in-file / missed for both modes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import tomllib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_REPOS, HERE, RUNTIME_DIR, Entry, check_checkout, load_manifest, placed  # noqa: E402
from evaluate import convlint_cmd, convlint_env, convlint_info  # noqa: E402
from record import record_entry  # noqa: E402

BUGS = HERE / "bugs.toml"
_CHECKOUT_LOCKS: dict[str, threading.Lock] = defaultdict(threading.Lock)
_GUARD = threading.Lock()


class RestoreError(RuntimeError):
    pass


def checkout_lock(path: Path) -> threading.Lock:
    with _GUARD:
        return _CHECKOUT_LOCKS[str(path)]


def git_clean(checkout: Path, file: str) -> bool:
    return subprocess.run(["git", "-C", str(checkout), "diff", "--quiet", "--", file]).returncode == 0


def run_check(target: str, cwd: Path, env: dict, timeout: float) -> tuple[str, list | None, str]:
    cmd = [*convlint_cmd(), "check", target, "--format", "json", "--no-cache", "--exit-zero"]
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", None, f"over {timeout:g} s"
    err = proc.stderr.strip()
    tail = " | ".join(err.splitlines()[-3:])[:600]
    if "Traceback (most recent call last)" in err or "internal error" in err.lower():
        return "crash", None, tail
    try:
        return "ok", json.loads(proc.stdout or "[]"), tail
    except json.JSONDecodeError:
        return "crash", None, tail or proc.stdout[-300:]


def relevant(findings: list | None, file: str) -> list[dict]:
    out = []
    for f in findings or []:
        if f.get("severity") not in ("error", "warning"):
            continue
        if os.path.normpath(f.get("path") or "") != os.path.normpath(file):
            continue
        out.append(f)
    return out


def judge(clean: list | None, mutated: list | None, file: str, line: int) -> dict:
    before = {(f["code"], f["line"], f.get("message")) for f in relevant(clean, file)}
    new = [f for f in relevant(mutated, file) if (f["code"], f["line"], f.get("message")) not in before]
    at = [f for f in new if f["line"] <= line <= (f.get("end_line") or f["line"])]
    pick = at or new
    return {
        "at_line": bool(at),
        "in_file": bool(new),
        "findings": [f"{f['code']} {f['path']}:{f['line']}: {f['message'][:160]}" for f in pick[:3]],
    }


def breaks(clean_fx: dict, fx: dict) -> tuple[bool, str]:
    if fx.get("status") != "ok":
        err = fx.get("error") or {}
        where = f" at {err.get('path')}:{err.get('line')}" if err.get("path") else ""
        return True, f"{err.get('type')}: {err.get('message', '')[:140]}{where}"
    a, b = clean_fx.get("output_shapes"), fx.get("output_shapes")
    if a is not None and b is not None:
        return (a != b), f"output {a} -> {b}" if a != b else "output unchanged"
    la, lb = clean_fx.get("layers") or [], fx.get("layers") or []
    last_a = la[-1]["output"] if la else None
    last_b = lb[-1]["output"] if lb else None
    return (last_a != last_b), f"last conv-family output {last_a} -> {last_b}"


def run_bug(bug: dict, entry: Entry, repos: Path, env: dict, timeout: float, rt_timeout: float,
            clean_cache: dict) -> dict:
    co = entry.checkout(repos)
    res = {"id": bug["id"], "model": entry.id, "kind": bug.get("kind", ""), "file": bug["file"], "line": bug["line"]}
    problem = check_checkout(entry, repos)
    if problem:
        res["skipped"] = problem
        return res
    fx_path = RUNTIME_DIR / f"{entry.id}.json"
    if not fx_path.exists():
        res["skipped"] = "no runtime fixture (run record.py)"
        return res
    clean_fx = json.loads(fx_path.read_text())
    path = co / bug["file"]
    with checkout_lock(co):
        if not git_clean(co, bug["file"]):
            res["skipped"] = f"{bug['file']} is modified in {co}: restore it first"
            return res
        data = path.read_bytes()
        lines = data.decode().split("\n")
        idx = bug["line"] - 1
        if idx >= len(lines) or lines[idx].count(bug["original"]) != 1:
            res["skipped"] = f"line {bug['line']} does not hold the original text exactly once"
            return res
        # clean baselines (cached per model / per file)
        key_a, key_b = ("a", entry.id), ("b", str(path))
        with placed(co / entry.entry_rel, entry.script):
            if key_a not in clean_cache:
                clean_cache[key_a] = run_check(entry.entry_rel, co, env, timeout)
            if key_b not in clean_cache:
                clean_cache[key_b] = run_check(bug["file"], co, env, timeout)
        mutated = list(lines)
        mutated[idx] = lines[idx].replace(bug["original"], bug["replacement"])
        t0 = time.time()
        try:
            path.write_bytes("\n".join(mutated).encode())
            fx = record_entry(entry, repos, rt_timeout)
            res["breaks"], res["runtime"] = breaks(clean_fx, fx)
            with placed(co / entry.entry_rel, entry.script):
                sa, fa, ta = run_check(entry.entry_rel, co, env, timeout)
            sb, fb, tb = run_check(bug["file"], co, env, timeout)
        finally:
            path.write_bytes(data)
            if not git_clean(co, bug["file"]):
                raise RestoreError(f"{path} could not be restored: check `git -C {co} diff`")
        res["seconds"] = round(time.time() - t0, 1)
    for mode, (status, findings, tail), clean in (
        ("declared", (sa, fa, ta), clean_cache[key_a]),
        ("undeclared", (sb, fb, tb), clean_cache[key_b]),
    ):
        r = {"status": status}
        if status != "ok":
            r["stderr"] = tail
            r.update(at_line=False, in_file=False, findings=[])
        else:
            r.update(judge(clean[1], findings, bug["file"], bug["line"]))
        if clean[0] != "ok":
            r["clean_status"] = clean[0]
        res[mode] = r
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*", help="bug ids (default: all)")
    ap.add_argument("--model", help="only bugs of this manifest model")
    ap.add_argument("--repos", type=Path, default=DEFAULT_REPOS)
    ap.add_argument("--convlint", help="a convlint checkout to measure (put first on the path)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per convlint run")
    ap.add_argument("--runtime-timeout", type=float, default=300, help="seconds per runtime run")
    ap.add_argument("--jobs", type=int, default=2, help="bugs of different checkouts run in parallel")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)

    with open(BUGS, "rb") as f:
        bugs = tomllib.load(f)["bug"]
    _, entries = load_manifest()
    by_id = {e.id: e for e in entries}
    if args.ids:
        unknown = set(args.ids) - {b["id"] for b in bugs}
        if unknown:
            raise SystemExit(f"unknown bug id(s): {', '.join(sorted(unknown))}")
        bugs = [b for b in bugs if b["id"] in args.ids]
    if args.model:
        bugs = [b for b in bugs if b["model"] == args.model]
    env = convlint_env(args.convlint)
    info = convlint_info(args.convlint)
    clean_cache: dict = {}
    t0 = time.time()

    def one(bug):
        return run_bug(bug, by_id[bug["model"]], args.repos, env, args.timeout, args.runtime_timeout, clean_cache)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, bugs))

    print(f"convlint: {info.get('path')} at {info.get('commit', '?')[:12]}"
          f"{' + %d uncommitted file(s)' % info['dirty_files'] if info.get('dirty_files') else ''}; "
          f"{len(results)} bugs in {time.time() - t0:.0f} s\n")
    mark = lambda r: "LINE" if r["at_line"] else ("file" if r["in_file"] else ("  - " if r["status"] == "ok" else r["status"].upper()))  # noqa: E731
    print(f"{'bug':34} {'model':30} {'breaks':6} {'decl':5} {'undecl':6}  runtime / what convlint said")
    counted = []
    for r in results:
        if r.get("skipped"):
            print(f"{r['id']:34} {r['model']:30} SKIPPED: {r['skipped']}")
            continue
        print(f"{r['id']:34} {r['model']:30} {'yes' if r['breaks'] else 'NO':6} {mark(r['declared']):5} "
              f"{mark(r['undeclared']):6}  {r['runtime'][:110]}")
        for mode in ("declared", "undeclared"):
            for f in r[mode]["findings"][:1]:
                print(f"{'':72}{mode[:5]}: {f[:120]}")
            if r[mode].get("stderr") and r[mode]["status"] != "ok":
                print(f"{'':72}{mode[:5]}: {r[mode]['status']}: {r[mode]['stderr'][:120]}")
        if r["breaks"]:
            counted.append(r)
    print()
    n = len(counted)
    for mode in ("declared", "undeclared"):
        at = sum(r[mode]["at_line"] for r in counted)
        inf = sum(r[mode]["in_file"] for r in counted)
        crashes = sum(r[mode]["status"] in ("crash", "timeout") for r in counted)
        label = "entry script (declared)" if mode == "declared" else "file alone (undeclared)"
        print(f"{label:26} found at the line {at}/{n}, in the file {inf}/{n}, convlint crashes/timeouts {crashes}")
    not_breaking = [r["id"] for r in results if not r.get("skipped") and not r["breaks"]]
    if not_breaking:
        print(f"mutations that did not break the model at run time (not counted): {', '.join(not_breaking)}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"convlint": info, "bugs": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
