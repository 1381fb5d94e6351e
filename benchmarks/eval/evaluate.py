"""Compare convlint's static shapes with the recorded runtime shapes: coverage and accuracy.

    python benchmarks/eval/evaluate.py [ID ...] [--repo NAME] [--convlint /work/main]
                                       [--repos /work/repos] [--timeout 120] [--jobs 2]
                                       [--json results.json] [--mismatches 5] [--no-declared]

For each manifest model with a runtime fixture (``record.py``), the entry script is placed in the
checkout and ``python -m convlint shapes <entry> --format json`` runs with cwd = the checkout
(``--convlint PATH`` puts PATH first on PYTHONPATH, to measure another checkout of convlint).
Where the manifest gives a ``declared`` form, ``convlint shapes FILE::Class --input ... --init ...``
is measured too. Static layers are matched to runtime layers by (path, line, op), then by module
name where both have it, then by occurrence order. Per model and per repository:

* runtime   — conv-family layers that ran (conv, transposed conv, pooling, adaptive pooling,
              upsample/interpolate/resize; every framework);
* resolved  — of those, the ones convlint reached with input and output shapes fully known;
* coverage  — resolved / runtime;
* accuracy  — resolved layers whose static input and output equal the runtime ones / resolved.

Every mismatch is a convlint bug (it claimed a shape the framework did not produce); the first
few are listed. A crash (exit status 2 with an internal error, a traceback, or no JSON) or a
timeout of convlint is reported as such: those are bugs too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_REPOS,
    RUNTIME_DIR,
    Entry,
    canonical_op,
    check_checkout,
    fully_known,
    is_conv_family,
    load_manifest,
    placed,
    select,
)

_LOCKS: dict[str, threading.Lock] = defaultdict(threading.Lock)
_LOCKS_GUARD = threading.Lock()


def _lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS[str(path)]


# `python -m convlint` with the checkout named by CONVLINT_EVAL_PATH first: an editable install's
# meta-path finder would otherwise win over PYTHONPATH.
_BOOT = (
    "import os, sys, runpy\n"
    "p = os.environ.get('CONVLINT_EVAL_PATH')\n"
    "if p:\n"
    "    sys.path.insert(0, p)\n"
    "    sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in type(f).__module__.lower()\n"
    "                        and 'editable' not in getattr(f, '__name__', '').lower()]\n"
    "sys.argv[0] = 'convlint'\n"
    "runpy.run_module('convlint', run_name='__main__', alter_sys=True)\n"
)


def convlint_cmd() -> list[str]:
    return [sys.executable, "-c", _BOOT]


def convlint_env(convlint: str | None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("CONVLINT_EVAL_PATH", None)
    if convlint:
        env["CONVLINT_EVAL_PATH"] = os.path.abspath(convlint)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def convlint_info(convlint: str | None) -> dict:
    """Which convlint is measured: its location, and the git commit and dirtiness of it."""
    code = _BOOT.replace("runpy.run_module('convlint', run_name='__main__', alter_sys=True)", "import convlint\n"
                         "print(os.path.dirname(os.path.dirname(os.path.abspath(convlint.__file__))))")
    try:
        root = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=convlint_env(convlint), check=True,
            cwd="/",
        ).stdout.strip()
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"cannot import convlint: {e.stderr.strip()[-300:]}") from None
    info = {"path": root}
    try:
        info["commit"] = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "convlint"], capture_output=True, text=True, check=True
        ).stdout
        info["dirty_files"] = len([l for l in dirty.splitlines() if l.strip()])
    except (subprocess.CalledProcessError, FileNotFoundError):
        # a snapshot made with `git archive` (see README): its commit is in SNAPSHOT
        snap = Path(root) / "SNAPSHOT"
        if snap.exists():
            info["commit"] = snap.read_text().strip()
            info["dirty_files"] = 0
    return info


def run_shapes(args: list[str], cwd: Path, env: dict, timeout: float) -> tuple[str, dict | None, str, float]:
    """Run ``convlint shapes``; return (status, json or None, stderr tail, seconds).

    status: "ok", "timeout", "crash" (a traceback, an internal error or unreadable output) or
    "error" (exit 2 for a reason convlint stated, e.g. a usage error)."""
    cmd = [*convlint_cmd(), "shapes", *args, "--format", "json"]
    t0 = time.time()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", None, f"over {timeout:g} s", time.time() - t0
    secs = time.time() - t0
    err = proc.stderr.strip()
    tail = " | ".join(err.splitlines()[-3:])[:600]
    if "Traceback (most recent call last)" in err or "internal error" in err.lower():
        return "crash", None, tail, secs
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return ("crash" if proc.returncode not in (0, 1, 2) or not err else "error"), None, tail or proc.stdout[-300:], secs
    return "ok", data, tail, secs


def static_coverage(data: dict, path: str, name: str | None = None) -> dict | None:
    """convlint's own account of what it lost (the ``coverage`` block of newer ``shapes`` JSON)."""
    out = None
    for model in data.get("models", []):
        if os.path.normpath(model.get("path") or "") != os.path.normpath(path):
            continue
        if name is not None and model.get("name") != name:
            continue
        cov = model.get("coverage")
        if isinstance(cov, dict):
            out = out or {"resolved": 0, "total": 0, "lost": []}
            out["resolved"] += cov.get("resolved") or 0
            out["total"] += cov.get("total") or 0
            out["lost"].extend(cov.get("lost") or [])
    return out


def static_layers(data: dict, path: str, name: str | None = None) -> list[dict]:
    """Conv-family layers of the models reported for ``path`` (and ``name``), in order."""
    out = []
    for model in data.get("models", []):
        if os.path.normpath(model.get("path") or "") != os.path.normpath(path):
            continue
        if name is not None and model.get("name") != name:
            continue
        out.extend(layer for layer in model.get("layers", []) if is_conv_family(layer.get("op")))
    return out


def _key(layer: dict) -> tuple:
    return (os.path.normpath(layer.get("path") or "?"), layer.get("line"), canonical_op(layer.get("op") or ""))


def pair(runtime: list[dict], static: list[dict]) -> list[dict | None]:
    """For each runtime layer, its static counterpart (or None).

    Layers are grouped by (path, line, op). Within a group a runtime layer first takes the static
    layer of the same module name (``down_blocks.1.resnets.0.conv1``), so that a static trace that
    visits a block twice or skips one does not shift every later pair; the rest pair up in
    occurrence order, using only static layers whose name no runtime layer of the group has."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, layer in enumerate(static):
        groups[_key(layer)].append(i)
    rt_groups: dict[tuple, list[int]] = defaultdict(list)
    for i, layer in enumerate(runtime):
        rt_groups[_key(layer)].append(i)
    out: list[dict | None] = [None] * len(runtime)
    for key, rts in rt_groups.items():
        sts = groups.get(key, [])
        used: set[int] = set()
        rt_names = {runtime[i].get("name") for i in rts if runtime[i].get("name")}
        for i in rts:
            name = runtime[i].get("name")
            if not name:
                continue
            j = next((j for j in sts if j not in used and static[j].get("name") == name), None)
            if j is not None:
                used.add(j)
                out[i] = static[j]
        free = [j for j in sts if j not in used and static[j].get("name") not in rt_names]
        for i in rts:
            if out[i] is None and free:
                out[i] = static[free.pop(0)]
    return out


def unknown_reason(st: dict) -> str:
    """Why a matched static layer is not resolved: which part of its shape is unknown."""
    for side in ("input", "output"):
        shape = st.get(side)
        if fully_known(shape):
            continue
        if not isinstance(shape, list):
            return f"{side} unknown (rank)"
        bad = [i for i, d in enumerate(shape) if not (isinstance(d, int) and not isinstance(d, bool))]
        if bad == [0]:
            return f"{side} unknown (batch only)"
        if 1 in bad and len(shape) > 2:
            return f"{side} unknown (channels)"
        return f"{side} unknown (spatial/features)"
    return "unknown"


def compare(runtime: list[dict], static: list[dict]) -> dict:
    """Match by (path, line, op), module name and occurrence order; count coverage and accuracy."""
    static_keys = Counter(_key(layer) for layer in static)
    static_sites = {(k[0], k[1]) for k in static_keys}
    pairs = pair(runtime, static)
    resolved = equal = 0
    mismatches = []
    lost: Counter = Counter()
    lost_examples: dict[str, dict] = {}
    occurrence: Counter = Counter()
    for rt, st in zip(runtime, pairs):
        k = _key(rt)
        occurrence[k] += 1
        if st is None:
            if not static_keys.get(k):
                reason = "op differs at this line" if (k[0], k[1]) in static_sites else "not reached"
            else:
                reason = "fewer static occurrences"
            lost[reason] += 1
            lost_examples.setdefault(reason, {"path": k[0], "line": k[1], "op": k[2], "name": rt.get("name")})
            continue
        if not (fully_known(st.get("input")) and fully_known(st.get("output"))):
            reason = unknown_reason(st)
            lost[reason] += 1
            lost_examples.setdefault(
                reason,
                {"path": k[0], "line": k[1], "op": k[2], "name": rt.get("name"), "static_input": st.get("input"),
                 "static_output": st.get("output"), "runtime_input": rt.get("input"), "runtime_output": rt.get("output")},
            )
            continue
        resolved += 1
        if list(st["input"]) == list(rt["input"] or []) and list(st["output"]) == list(rt["output"] or []):
            equal += 1
        else:
            mismatches.append(
                {"path": k[0], "line": k[1], "op": k[2], "name": rt.get("name") or st.get("name"),
                 "occurrence": occurrence[k], "runtime": [rt.get("input"), rt.get("output")],
                 "static": [st.get("input"), st.get("output")]}
            )
    matched = sum(p is not None for p in pairs)
    return {
        "runtime": len(runtime),
        "resolved": resolved,
        "equal": equal,
        "static_only": len(static) - matched,
        "mismatches": mismatches,
        "lost": dict(lost),
        "lost_examples": lost_examples,
    }


def declared_args(entry: Entry) -> list[str]:
    d = entry.declared
    target = d["target"]
    inp = d["input"]
    if not isinstance(inp, list):
        raise ValueError("declared input tables are not supported by `shapes --input`; give one positional shape")
    args = [target, "--input", f"{target}={','.join(str(x) for x in inp)}"]
    for key, value in (d.get("init") or {}).items():
        args += ["--init", f"{target}:{key}={value!r}"]
    return args


def load_fixture(entry: Entry) -> tuple[dict | None, str | None]:
    path = RUNTIME_DIR / f"{entry.id}.json"
    if not path.exists():
        return None, "no runtime fixture (run record.py)"
    fx = json.loads(path.read_text())
    if fx.get("entry_sha256") != entry.script_hash or fx.get("commit") != entry.commit:
        return None, "runtime fixture is stale (entry script or commit changed): run record.py"
    if fx.get("status") != "ok":
        return None, f"the model fails at run time: {fx.get('error', {}).get('message', '')[:200]}"
    return fx, None


def evaluate_entry(entry: Entry, repos: Path, env: dict, timeout: float, declared: bool) -> dict:
    try:
        return _evaluate_entry(entry, repos, env, timeout, declared)
    except FileExistsError as e:
        return {"id": entry.id, "repo": entry.repo, "framework": entry.framework, "skipped": str(e)}


def _evaluate_entry(entry: Entry, repos: Path, env: dict, timeout: float, declared: bool) -> dict:
    res: dict = {"id": entry.id, "repo": entry.repo, "framework": entry.framework, "category": entry.category}
    fx, why = load_fixture(entry)
    if fx is None:
        res["skipped"] = why
        return res
    problem = check_checkout(entry, repos)
    if problem:
        res["skipped"] = problem
        return res
    runtime = [layer for layer in fx["layers"] if is_conv_family(layer["op"])]
    co = entry.checkout(repos)
    entry_path = co / entry.entry_rel
    with _lock(entry_path), placed(entry_path, entry.script):
        status, data, tail, secs = run_shapes([entry.entry_rel], co, env, timeout)
    res["script"] = {"status": status, "seconds": round(secs, 1)}
    if status != "ok":
        res["script"]["stderr"] = tail
        res["script"].update(compare(runtime, []))
        res["script"]["resolved"] = 0
    else:
        res["script"].update(compare(runtime, static_layers(data, entry.entry_rel)))
        res["script"]["convlint_coverage"] = static_coverage(data, entry.entry_rel)
    if declared and entry.declared:
        target = entry.declared["target"]
        file_part, _, name = target.rpartition("::")
        status, data, tail, secs = run_shapes(declared_args(entry), co, env, timeout)
        res["declared"] = {"status": status, "seconds": round(secs, 1)}
        if status != "ok":
            res["declared"]["stderr"] = tail
            res["declared"].update(compare(runtime, []))
        else:
            res["declared"].update(compare(runtime, static_layers(data, file_part, name)))
            res["declared"]["convlint_coverage"] = static_coverage(data, file_part, name)
    return res


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:5.1f}%" if b else "    -"


def aggregate(results: list[dict], mode: str) -> dict:
    groups: dict[str, dict] = {}
    for r in results:
        m = r.get(mode)
        if not m:
            continue
        for key in (r["repo"], f"[{r['framework']}]", "TOTAL"):
            g = groups.setdefault(key, {"models": 0, "runtime": 0, "resolved": 0, "equal": 0, "crash": 0,
                                        "timeout": 0, "lost": Counter()})
            g["models"] += 1
            g["runtime"] += m["runtime"]
            g["resolved"] += m["resolved"]
            g["equal"] += m["equal"]
            g["crash"] += m["status"] in ("crash", "error")
            g["timeout"] += m["status"] == "timeout"
            g["lost"].update(m.get("lost", {}))
    for g in groups.values():
        g["coverage"] = round(100.0 * g["resolved"] / g["runtime"], 1) if g["runtime"] else None
        g["accuracy"] = round(100.0 * g["equal"] / g["resolved"], 1) if g["resolved"] else None
        g["lost"] = dict(g["lost"])
    return groups


def root_causes(rows: list[dict], mode: str) -> list:
    """convlint's reported causes, grouped by reason text: (layers, models, an example site)."""
    import re

    agg: dict[str, list] = {}
    for r in rows:
        cov = r[mode].get("convlint_coverage") or {}
        seen = set()
        for lost in cov.get("lost", []):
            reason = re.sub(r"\b\d+\b", "N", str(lost.get("reason", "?")))
            a = agg.setdefault(reason, [0, 0, f"{r['id']}: {lost.get('path')}:{lost.get('line')}"])
            a[0] += lost.get("layers") or 0
            if reason not in seen:
                a[1] += 1
                seen.add(reason)
    return sorted(((k, tuple(v)) for k, v in agg.items()), key=lambda kv: -kv[1][0])


def print_report(results: list[dict], mismatches: int, out=sys.stdout) -> None:
    w = out.write
    for mode, title in (("script", "entry scripts"), ("declared", "declared form (FILE::Class --input --init)")):
        rows = [r for r in results if r.get(mode)]
        if not rows:
            continue
        w(f"\n== {title}\n")
        w(f"{'model':36} {'status':8} {'runtime':>7} {'resolved':>8} {'coverage':>8} {'accuracy':>8} {'extra':>5} {'secs':>6}\n")
        for r in rows:
            m = r[mode]
            w(f"{r['id']:36} {m['status']:8} {m['runtime']:7d} {m['resolved']:8d} {pct(m['resolved'], m['runtime']):>8} "
              f"{pct(m['equal'], m['resolved']):>8} {m.get('static_only', 0):5d} {m['seconds']:6.1f}\n")
        agg = aggregate(results, mode)
        w(f"\n{'repository':36} {'models':>6} {'runtime':>7} {'resolved':>8} {'coverage':>8} {'accuracy':>8} {'crash':>5} {'t/o':>4}\n")
        for key, g in sorted(agg.items(), key=lambda kv: (kv[0] == "TOTAL", kv[0].startswith("["), kv[0].lower())):
            w(f"{key:36} {g['models']:6d} {g['runtime']:7d} {g['resolved']:8d} {pct(g['resolved'], g['runtime']):>8} "
              f"{pct(g['equal'], g['resolved']):>8} {g['crash']:5d} {g['timeout']:4d}\n")
        w("(extra: conv-family layers convlint reports that match no runtime layer, e.g. a block traced twice)\n")
        lost = agg.get("TOTAL", {}).get("lost", {})
        if lost:
            w("lost layers by reason: " + ", ".join(f"{k}: {v}" for k, v in sorted(lost.items(), key=lambda kv: -kv[1])) + "\n")
        causes = root_causes(rows, mode)
        if causes:
            w("convlint's own root causes (from `shapes` JSON coverage.lost; layers not followed, summed):\n")
            for reason, (n, models, site) in causes[:12]:
                w(f"  {n:5d} layers, {models:2d} models  {reason[:90]}  e.g. {site}\n")
        bad = [(r, m) for r in rows for m in r[mode].get("mismatches", [])]
        if bad:
            w(f"\nMISMATCHES ({len(bad)}; static shape differs from the runtime: convlint bugs)\n")
            per: Counter = Counter()
            for r, m in bad:
                per[r["id"]] += 1
                if per[r["id"]] > mismatches:
                    continue
                w(f"  {r['id']}: {m['path']}:{m['line']} {m['op']} {m['name'] or ''} (#{m['occurrence']}) "
                  f"runtime {m['runtime'][0]} -> {m['runtime'][1]}, static {m['static'][0]} -> {m['static'][1]}\n")
        failed = [r for r in rows if r[mode]["status"] != "ok"]
        if failed:
            w("\nCONVLINT FAILURES (crashes and timeouts are bugs)\n")
            for r in failed:
                w(f"  {r['id']}: {r[mode]['status']}: {r[mode].get('stderr', '')}\n")
    skipped = [r for r in results if r.get("skipped")]
    if skipped:
        w("\nskipped:\n")
        for r in skipped:
            w(f"  {r['id']}: {r['skipped']}\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ids", nargs="*", help="model ids (default: all)")
    ap.add_argument("--repos", type=Path, default=DEFAULT_REPOS, help="folder holding the checkouts")
    ap.add_argument("--repo", help="only models of repositories whose owner/name (or manifest id) contains this")
    ap.add_argument("--convlint", help="a convlint checkout to measure (put first on PYTHONPATH)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per convlint run (default 120)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write the full results here (for trend tracking)")
    ap.add_argument("--mismatches", type=int, default=5, help="mismatches listed per model")
    ap.add_argument("--no-declared", action="store_true", help="skip the declared forms")
    args = ap.parse_args(argv)

    _, entries = load_manifest()
    chosen = [e for e in select(entries, args.ids, args.repo)]
    excluded = [e for e in chosen if e.status != "ok"]
    chosen = [e for e in chosen if e.status == "ok"]
    env = convlint_env(args.convlint)
    info = convlint_info(args.convlint)
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda e: evaluate_entry(e, args.repos, env, args.timeout, not args.no_declared), chosen))
    print(f"convlint: {info.get('path')} at {info.get('commit', '?')[:12]}"
          f"{' + %d uncommitted file(s)' % info['dirty_files'] if info.get('dirty_files') else ''}; "
          f"{len(results)} models in {time.time() - t0:.0f} s")
    print_report(results, args.mismatches)
    for e in excluded:
        print(f"  excluded in the manifest: {e.id}: {e.status}")
    if args.json:
        payload = {
            "convlint": info,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "timeout": args.timeout,
            "summary": {mode: aggregate(results, mode) for mode in ("script", "declared")},
            "models": results,
            "excluded": {e.id: e.status for e in excluded},
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
