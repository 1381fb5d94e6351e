"""``convlint shapes PATH[::Name]``: the per-layer shapes of each model, without running anything.

Text output is a table per model (like a torchinfo summary); ``--format json`` prints
``{"models": [...]}`` as docs/contracts.md specifies.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from convlint.commands.common import add_confirm_arguments, with_confirm
from convlint.errors import UsageError
from convlint.interpret.tensor import fmt_shape, json_shape


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Print the shapes flowing through each declared model (static; nothing is run)."
    parser.add_argument("paths", nargs="*", metavar="PATH[::Name]", help="files or folders; ::Name picks one class or function")
    parser.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="FILE::NAME=SHAPE",
        help="declare an input, e.g. 'models/unet.py::UNet=1,3,64,64' (symbolic names allowed); repeatable",
    )
    parser.add_argument("--init", action="append", default=[], metavar="FILE::NAME:KEY=VALUE", help="a constructor argument for a model given by --input (a Python literal)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--sizes",
        action="store_true",
        help="state which values of each symbolic input size (H, W, …) the model accepts, and which layer or merge imposes each part",
    )
    parser.add_argument("--list", action="store_true", help="list the models found (declared, run with defaults or symbolic sizes, or needing constructor arguments) instead of their shapes")
    parser.add_argument("--config", metavar="FILE", help="read the configuration from FILE")
    add_confirm_arguments(parser)


def _parse_input(spec: str):
    from convlint.interpret.declare import DeclarationError, parse_shape

    target, eq, shape = spec.partition("=")
    file_part, sep, name = target.rpartition("::")
    if not eq or not sep or not file_part or not name:
        raise UsageError(f"--input {spec!r}: expected FILE::NAME=SHAPE such as 'models/unet.py::UNet=1,3,64,64'")
    try:
        dims = parse_shape("(" + shape.strip("()[] ") + ",)", 1)
    except DeclarationError as e:
        raise UsageError(f"--input {spec!r}: {e.message}") from None
    return os.path.abspath(file_part), name, dims


def _parse_init(spec: str):
    import ast

    file_part, sep, rest = spec.rpartition("::")
    name, colon, kv = rest.partition(":")
    key, eq, value = kv.partition("=")
    if not (colon and sep and eq and key.isidentifier() and name):
        raise UsageError(f"--init {spec!r}: expected FILE::NAME:KEY=VALUE")
    try:
        lit = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise UsageError(f"--init {spec!r}: {value!r} is not a Python literal") from None
    return os.path.abspath(file_part), name, key, lit


def collect(paths, inputs=(), inits=(), config=None, sink=None, sizes=False, every=False, own=None):
    """Analyse and return ``(models_json, runs)`` for the given paths.

    With ``config.confirm``, a ``sink`` dict receives the CVL010 ``findings`` and the
    confirmation's ``messages``. With ``every``, the runs of model classes convlint ran on its own
    (no declaration) are returned too (``shapes --list``); else an ``own`` list receives
    ``(path, name)`` of each of them, left out.
    """
    from convlint.analysis import Project, analyze_file
    from convlint.interpret.declare import Entry
    from convlint.source.discover import discover
    from convlint.source.files import read_source

    if config is None:
        from convlint.config import Config

        config = Config.default(os.getcwd())
    targets = []  # (file, name or None)
    for p in paths or ["."]:
        file_part, sep, name = p.rpartition("::") if "::" in p else (p, "", "")
        if not os.path.exists(file_part):
            raise UsageError(f"{file_part}: No such file or directory")
        targets.append((file_part, name or None))
    extra: dict[str, list] = {}
    init_map: dict[tuple, dict] = {}
    for spec in inits:
        f, n, k, v = _parse_init(spec)
        init_map.setdefault((f, n), {})[k] = v
    for file_part, name in targets:
        if name is not None and os.path.isfile(file_part):
            _require_target(file_part, name, None, None)
    for spec in inputs:
        f, n, dims = _parse_input(spec)
        _require_target(f, n, init_map.get((f, n)), None)
        kind = "class"
        extra.setdefault(f, []).append(Entry(n, kind, None, [dims], None, init_map.get((f, n), {}), "option", 1))
        if not any(os.path.abspath(t[0]) == f for t in targets):
            targets.append((f, n))
    project = Project(root=config.root, config=config)
    models = []
    runs_all = []
    for target, name in targets:
        files = [target] if os.path.isfile(target) else [str(x) for x in _discover_files(discover, target, config)]
        for path in files:
            src = read_source(path)
            text = getattr(src, "text", None)
            if text is None:
                continue
            ap = os.path.abspath(path)
            entries = list(extra.get(ap, []))
            res = analyze_file(project, path, text, only=name, extra_entries=entries)
            for run in res.runs:
                if name is None and run.entry.source == "auto" and run.entry.kind != "module" and not every:
                    if own is not None and run.entry.kind == "class" and run.trace.events:
                        own.append((run.path, run.entry.name))
                    continue
                if every and run.part_of is not None:
                    continue  # a model a script applied to data of unknown shape, run again: the script is the entry listed
                if run.entry.kind in ("module", "test") and not any(ev.input is not None and ev.output is not None for ev in run.trace.events):
                    continue  # script code that builds nothing with known shapes
                models.append(_model_json(run, confirm=bool(getattr(config, "confirm", None)), sizes=sizes))
                runs_all.append(run)
            if sink is not None:
                sink.setdefault("findings", []).extend(f for f in res.findings if f.code == "CVL010")
    if sink is not None and getattr(config, "confirm", None):
        from convlint.confirm.confirm import messages

        sink["messages"] = messages(project)
    return models, runs_all


def _require_target(path, name, init, call) -> None:
    """A usage error when ``path::name`` names nothing (the message lists what the file defines)."""
    from pathlib import Path

    from convlint.source.targets import target_problems

    problems = target_problems(Path(path), name, init, call)
    if problems:
        raise UsageError("; ".join(problems))


def _discover_files(discover, target, config):
    result = discover([target], root=config.root, exclude=config.exclude, extend_exclude=config.extend_exclude)
    return list(result.files)


def _position(site):
    if site is None or site.node is None or site.module is None:
        return None
    return site.module.parsed.position(site.node)


def _model_json(run, confirm: bool = False, sizes: bool = False) -> dict:
    from convlint.rules.cvl009_output_mismatch import first_tensor

    module = run.module
    line = 1
    if run.entry.node is not None and run.entry.kind != "module":
        # a class or def: its name; a statement (``ResNet18 = partial(…)``): its line
        pos = module.parsed.position(run.entry.node.name if hasattr(run.entry.node, "name") else run.entry.node)
        line = pos[0] if pos else 1
    inp = run.input
    out = first_tensor(run.output)
    layers = []
    confirmed = getattr(run, "confirmed", {})
    for i, ev in enumerate(run.trace.events):
        site = ev.site if ev.layer is not None else ev.call_site
        pos = _position(site)
        layers.append(
            {
                "path": site.module.parsed.path if site is not None and site.module is not None else run.path,
                "line": pos[0] if pos else None,
                "column": pos[1] if pos else None,
                "op": ev.op,
                "name": ev.name if ev.name else (ev.layer.name if ev.layer is not None and getattr(ev.layer, "name", None) else None),
                "input": json_shape(ev.input),
                "output": json_shape(ev.output),
                **({"confirm": confirmed.get(i)} if confirm else {}),
            }
        )
    return {
        "path": run.path,
        "name": run.entry.name,
        "line": line,
        "input": json_shape(getattr(inp, "shape", None)) if inp is not None else None,
        "output": json_shape(out.shape) if out is not None else None,
        "layers": layers,
        "coverage": _coverage_json(run),
        **({"undeclared": list(run.undeclared)} if run.undeclared else {}),
        **({"incomplete": run.trace.incomplete} if run.trace.incomplete else {}),
        **({"sizes": _sizes_json(run)} if sizes else {}),
    }


def _sizes_json(run) -> dict:
    """``{"H": {"text", "min", "period", "residues", "below_min", "exact", "reasons"}, …}`` (contracts.md)."""
    from convlint.interpret.sizing import model_sizes

    return {name: v.to_json() for name, v in model_sizes(run).vars.items()}


def _coverage_json(run) -> dict:
    """``{"resolved", "total", "lost": [{"path", "line", "reason", "layers"}]}``: the conv-family
    layers followed with known shapes, and where the engine lost track (root causes only)."""
    from convlint.interpret.coverage import coverage

    cov = coverage(run)
    lost = []
    for loss in cov.lost:
        pos = _position(loss.site)
        path = loss.site.module.parsed.path if loss.site is not None and loss.site.module is not None else run.path
        lost.append({"path": path, "line": pos[0] if pos else None, "reason": loss.reason, "layers": len(loss.layers)})
    return {"resolved": cov.resolved, "total": cov.total, "lost": lost}


def _list_json(run) -> dict:
    """One model of ``shapes --list``: how convlint analyses it, and what a constructor needs."""
    from convlint.interpret.entries import open_parameters

    m = _model_json(run)
    entry = run.entry
    kind = {"module": "script", "test": "test"}.get(entry.kind, entry.kind)
    out = {"path": m["path"], "name": m["name"], "line": m["line"], "kind": kind, "status": "declared", "input": m["input"],
           "symbolic": [], "needs": [], "coverage": {k: m["coverage"][k] for k in ("resolved", "total")}}
    if m.get("undeclared"):
        out["undeclared"] = m["undeclared"]
    if entry.kind in ("module", "test"):
        out["status"] = "entry"
    elif entry.source == "auto":
        # a class, or ``ResNet18 = partial(ResNet, …)``: what its constructor is left without
        target = run.module.scope.vars.get(entry.name) if run.module is not None and run.module.scope is not None else None
        _cls, symbolic, needs = open_parameters(target)
        out["symbolic"] = symbolic
        out["needs"] = needs
        out["status"] = "needs-arguments" if needs else "symbolic" if symbolic else "defaults"
    return out


def _list_text(models) -> str:
    if not models:
        return "No models found.\n"
    rows = [("model", "kind", "status", "input / constructor")]
    for m in models:
        if m["status"] == "needs-arguments":
            what = "needs " + ", ".join(m["needs"]) + (f" (sizes symbolic: {', '.join(m['symbolic'])})" if m["symbolic"] else "")
        elif m["status"] == "symbolic":
            what = "symbolic " + ", ".join(m["symbolic"])
        else:
            what = _dims(fmt_shape(tuple(m["input"]))) if m["input"] is not None else ""
        cov = m["coverage"]
        if cov["total"]:
            missing = f"; not declared: {', '.join(m['undeclared'])}" if m.get("undeclared") and cov["resolved"] < cov["total"] else ""
            what += f"  [{cov['resolved']}/{cov['total']} conv-family layers resolved{missing}]"
        rows.append((f"{m['path']}:{m['line']} {m['name']}", m["kind"], m["status"], what.strip()))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    need = sum(m["status"] == "needs-arguments" for m in models)
    if need:
        lines.append("")
        lines.append(f"{need} model(s) need constructor arguments: declare them with init(...) in a pragma or [[tool.convlint.model]], or with a smoke test (see the README).")
    return "\n".join(lines) + "\n"


def _text(models, runs=(), own=(), paths=()) -> str:
    if not models:
        text = "No models found: declare one with `# convlint: input=(…)` on its class line, or pass --input FILE::NAME=SHAPE.\n"
        if own:
            path, name = own[0]
            listing = " ".join(["convlint shapes --list", *paths])
            more = f" (and {len(own) - 1} more: `{listing}`)" if len(own) > 1 else ""
            text += (f"convlint ran {len(own)} model class{'es' if len(own) > 1 else ''} on {'their' if len(own) > 1 else 'its'} own, with "
                     f"symbolic sizes: `convlint shapes {path}::{name}` shows {name}{more}.\n")
        return text
    out = []
    for k, m in enumerate(models):
        head = f"{m['path']}:{m['line']} {m['name']}"
        inp = fmt_shape(tuple(m["input"])) if m["input"] is not None else "(?)"
        outp = fmt_shape(tuple(m["output"])) if m["output"] is not None else "(?)"
        out.append(f"{head}: {_dims(inp)} → {_dims(outp)}")
        run = runs[k] if k < len(runs) else None
        if run is not None and run.entry.source == "auto" and run.entry.kind == "class":
            out.append("  (not declared: run on its own, its constructor's defaults and symbolic sizes for the rest; "
                       "declare an input to check it at a real size)")
        confirm = any("confirm" in layer for layer in m["layers"])
        rows = [("line", "layer", "op", "input", "output") + (("confirmed",) if confirm else ())]
        for layer in m["layers"]:
            loc = f"{layer['line']}" if layer["path"] == m["path"] else f"{layer['path']}:{layer['line']}"
            rows.append((loc, layer["name"] or "", layer["op"].replace("torch.nn.functional.", "F.").replace("torch.nn.", "nn.").replace("flax.linen.", "nn."),
                         _dims(fmt_shape(tuple(layer["input"]))) if layer["input"] is not None else "(?)",
                         _dims(fmt_shape(tuple(layer["output"]))) if layer["output"] is not None else "(?)")
                        + (({"ok": "yes", "rejected": "rejected, as reported", "mismatch": "NO (CVL010)", "not run": "not run"}.get(layer.get("confirm"), ""),) if confirm else ()))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if m.get("incomplete"):
            out.append(f"  (stopped early: {m['incomplete']}; later layers are not shown)")
        if "sizes" in m:
            out += _sizes_text(m)
        cov = m.get("coverage")
        if cov and cov["total"]:
            out.append(f"  {cov['resolved']}/{cov['total']} conv-family layers resolved")
            for loss in cov["lost"][:5]:
                where = f"{loss['path']}:{loss['line']}" if loss["line"] else loss["path"]
                n = loss["layers"]
                out.append(f"    lost at {where}: {loss['reason']} ({n} layer{'s' if n != 1 else ''} not followed)")
            if len(cov["lost"]) > 5:
                out.append(f"    … and {len(cov['lost']) - 5} more places")
            if m.get("undeclared") and cov["resolved"] < cov["total"]:
                names = ", ".join(m["undeclared"])
                them = "them" if len(m["undeclared"]) > 1 else "it"
                out.append(f"    not declared: {names} (no shape given: what depends on {them} is unknown; declare {them} beside the"
                           f" first input: a pragma `input <first>=(…) {m['undeclared'][0]}=(…)`, or a table by parameter in [[tool.convlint.model]])")
        out.append("")
    return "\n".join(out)


def _sizes_text(m) -> list:
    """The ``--sizes`` lines of one model: the rule per symbolic size, then what imposes each part."""
    sizes = m["sizes"]
    if not sizes:
        return ["  sizes: no symbolic input size (declare one: input=(1, 3, H, W))"]
    def rule(name, v):
        text = f"{name}: no size" if v["text"] in ("no size", "not decided") else v["text"]
        return text if v["exact"] or v["text"] == "no size" else f"{text} (necessary; maybe not enough)"

    lines = ["  sizes: " + "; ".join(rule(name, v) for name, v in sizes.items())]
    for name, v in sizes.items():
        for reason in v.get("reasons", []):
            by = reason["by"]
            if len(by) == 1:
                who = f"{by[0]} needs"
            elif len(by) == 2:
                who = f"{by[0]} and {by[1]} need"
            else:
                who = f"{by[0]} and {len(by) - 1} more after it need"
            lines.append(f"    {who} {reason['text']}")
        if not v["exact"]:
            why = v.get("why") or []
            lines.append(f"    {name}: not every constraint on it is known" + (f" ({why[0]})" if why else ""))
    return lines


def _dims(s: str) -> str:
    return s.replace("None", "?")


def run(args) -> int:
    from convlint.config import load_config

    config = load_config([p.split("::")[0] for p in args.paths], config_file=args.config)
    config = with_confirm(config, args)
    sink: dict = {}
    if getattr(args, "list", False):
        _models, runs = collect(args.paths, args.input, args.init, config, every=True)
        listed = [_list_json(r) for r in runs]
        if args.format == "json":
            sys.stdout.write(json.dumps({"models": listed}, indent=2) + "\n")
        else:
            from convlint.report import escape_controls

            sys.stdout.write(escape_controls(_list_text(listed), keep="\n"))
        return 0
    own: list = []
    models, runs = collect(args.paths, args.input, args.init, config, sink=sink if config.confirm else None, sizes=getattr(args, "sizes", False),
                           own=own)
    status = 0
    findings = sink.get("findings", [])
    for line in sink.get("messages", []):
        print(f"convlint: warning: {line}", file=sys.stderr)
    if args.format == "json":
        doc = {"models": models}
        if config.confirm:
            doc["findings"] = [f.to_json() for f in findings]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        text = _text(models, runs, own, args.paths)
        if config.confirm:
            text += "".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}\n" for f in findings)
            notes = sink.get("messages", [])
            text += f"--confirm={config.confirm}: " + (f"{len(findings)} disagreement(s) with the frameworks (CVL010)" if findings else "no disagreement with the frameworks")
            text += f"; {len(notes)} warning(s) above\n" if notes else "\n"
        from convlint.report import escape_controls

        sys.stdout.write(escape_controls(text, keep="\n"))
    if findings:
        status = 1
    return status
