"""One file's analysis: parse, run its entries, run the rules, resolve positions and fixes.

Entries are the file's script code (``<module>``), its declared models (pragmas, jaxtyping,
``[[tool.convlint.model]]``), its test functions when pytest would collect the file (smoke tests that
build and run a model) and every framework module class it defines (run with its
defaults and an input of unknown size, which still checks configurations, channels and pairs
that mismatch for every size). Conv-family calls no entry reached are interpreted once more
inside their enclosing function with its parameters' defaults (the static pass: CVL001 and
CVL008 only). Each rule of :mod:`convlint.rules` checks each run; issues become findings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import libcst as cst

from convlint.findings import Finding, Fix
from convlint.frameworks import CONV_FAMILY, Frameworks
from convlint.frameworks.base import Op
from convlint.interpret.declare import Entry, declared_entries
from convlint.interpret.entries import INTERNAL_ERROR, ModelRun, partial_entries, pytest_entries, run_applied, run_entry
from convlint.interpret.events import Issue, Trace, UnresolvedEvent, where_supplied
from convlint.interpret.flow import BudgetExceeded, Dead, Return
from convlint.interpret.interpreter import Interpreter
from convlint.interpret.values import ClassVal, FunctionVal, Instance, Site, Unknown, unwrap
from convlint.source.project import ModuleInfo, Project
from convlint.source.walk import children

__all__ = ["analyze_file", "FileResult", "ModelRun", "Project"]

FW = Frameworks()


@dataclass
class FileResult:
    findings: list = field(default_factory=list)
    deps: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)


def _check(runs, codes=None, label=None) -> list[Issue]:
    """Every rule's ``check`` over every run (only ``codes`` when given).

    With ``label(run)``, an issue in another file than the run's entry names the entry in its
    message (``… (entry: tests/test_model.py::test_forward)``): the finding is reported where the
    layer is, and says which model, script or test gave it its sizes."""
    from convlint.rules import rule_modules

    issues: list[Issue] = []
    for code, mod in rule_modules().items():
        if codes is not None and code not in codes:
            continue
        mine: list[Issue] = []
        for r in runs:
            found = mod.check(r)
            if label is not None:
                for iss in found:
                    m = iss.site.module if iss.site is not None else None
                    if m is not None and os.path.abspath(m.path) != os.path.abspath(r.path):
                        iss.message = f"{iss.message} (entry: {label(r)})"
            r.issues += found
            mine += found
        # a rule may know that two runs' issues have one root cause (``across_runs``)
        issues += mod.across_runs(mine) if hasattr(mod, "across_runs") else mine
    return issues


def _layer_subclass(cls) -> bool:
    from convlint.frameworks.base import framework_base

    base = framework_base(cls)
    return base is not None and getattr(base, "kind", None) == "layer"


def _suggest_sizes(interp, module, runs) -> None:
    """A declared input whose sizes break the model: the findings it causes gain the valid sizes
    and the nearest ones (:func:`convlint.interpret.sizing.suggest_sizes`)."""
    from convlint.interpret.sizing import SIZE_CODES, suggest_sizes

    for r in runs:
        hit = [i for i in r.issues if i.code in SIZE_CODES and "no input size" not in i.message]
        if not hit or r.entry.source == "auto":
            continue
        hint = suggest_sizes(interp, module, r)
        if hint:
            for i in hit:  # before the entry's name, which ends a message
                body, sep, entry = i.message.partition(ENTRY_SUFFIX)
                i.message = f"{body} ({hint}){sep}{entry}"


ENTRY_SUFFIX = " (entry: "


def _entry_label(project: Project, run) -> str:
    """``path::name`` of a run's entry, the path relative to the project root (as pytest names a
    test); the path alone for script code."""
    path = os.path.abspath(run.path)
    try:
        shown = os.path.relpath(path, project.root)
        if shown.startswith(".."):
            shown = path
    except ValueError:
        shown = path
    shown = shown.replace(os.sep, "/")
    return shown if run.entry.kind == "module" else f"{shown}::{run.entry.name}"


# ------------------------------------------------------------------------------------------ analysis

def analyze_file(project: Project, path: str, text: str, *, extra_entries: list[Entry] | None = None, only: str | None = None,
                 prove_fixes: bool = True) -> FileResult:
    """Analyse one file; findings may point into other files of the project (blocks it imports).

    A fix is offered only when it is proven on the whole analysis: with the fix applied (in
    memory), the finding it targets is gone and no new error or warning appears in any entry that
    runs through the edited line — a block shared by two models with different sizes gets a fix only
    if one fix is right for both.
    """
    project.begin(path)
    result = None
    try:
        result = _analyze(project, path, text, extra_entries or [], only)
    finally:
        deps = project.end()
        if result is not None:
            result.deps = deps
    if prove_fixes and result is not None and any(f.fix is not None for f in result.findings):
        result.findings = _prove_fixes(project, path, text, result, extra_entries or [], only)
    return result


def _prove_fixes(project: Project, path: str, text: str, result: FileResult, extra_entries, only) -> list:
    """Keep each finding's fix only if re-analysing with it applied removes the finding and adds nothing."""
    from dataclasses import replace

    from convlint.findings import apply_edits

    failing = {(f.code, os.path.abspath(f.path), f.line) for f in result.findings if f.severity in ("error", "warning")}
    wrong_outputs = _output_problems(result.runs)
    # a lone finding about a wrong output must make it right with its fix (with several, each fixes its part)
    output_findings = sum(1 for f in result.findings if f.code == "CVL004" and _OUTPUT_CONSEQUENCE in f.message)
    out = []
    for f in result.findings:
        if f.fix is None:
            out.append(f)
            continue
        target = os.path.abspath(f.path)
        main = os.path.abspath(path)
        try:
            original = text if target == main else open(target, encoding="utf-8-sig").read()
            edited = apply_edits(original, f.fix.edits)
        except (OSError, UnicodeDecodeError, ValueError):
            out.append(replace(f, fix=None))
            continue
        trial = project.with_text(target, edited)
        try:
            again = analyze_file(trial, path, edited if target == main else text, extra_entries=extra_entries, only=only, prove_fixes=False)
        except Exception:  # the trial is a check of the fix, not of the file
            again = None
        after = set() if again is None else {(g.code, os.path.abspath(g.path), g.line) for g in again.findings if g.severity in ("error", "warning")}
        gone = again is not None and (f.code, target, f.line) not in after
        added = after - failing
        if again is not None:
            # a model's output that is wrong after the fix and was not before is something new;
            # a fix for a wrong output must make it right (a decoder step that now mirrors its
            # encoder step but leaves the output wrong is no fix)
            still = _output_problems(again.runs)
            if still - wrong_outputs:
                added = added | {("output", name) for name in still - wrong_outputs}
            if output_findings == 1 and f.code == "CVL004" and _OUTPUT_CONSEQUENCE in f.message and not (still < wrong_outputs):
                gone = False
        if gone and not added:
            out.append(f)
        else:
            why = "it would not remove the problem" if not gone else "it would make another layer of the model wrong"
            out.append(replace(f, fix=None, message=f"{f.message} (no certain fix: {why})"))
    return out


_OUTPUT_CONSEQUENCE = "the model's output differs from"  # CVL004's words for an output consequence


def _output_problems(runs) -> set:
    """Entries whose output differs from their declared output or, for an autoencoder, from their input."""
    from convlint.rules.cvl004_decoder_mismatch import _differs_from_declared, _differs_from_input, _first_tensor

    out = set()
    for r in runs:
        t = _first_tensor(r.output)
        if t is not None and t.shape is not None and (_differs_from_input(r.input, t) or _differs_from_declared(r, t)):
            out.add(r.entry.name)
    return out


def _analyze(project: Project, path: str, text: str, extra_entries, only) -> FileResult:
    parsed = project.parse_text(path, text)
    result = FileResult()
    if parsed.tree is None:
        result.findings.append(_parse_error_finding(parsed.path, parsed.tree_error))
        return result
    module = project.info(path)
    interp = Interpreter(project, FW)
    issues: list[Issue] = []
    entries, errors = declared_entries(parsed)
    for e in errors:
        issues.append(Issue("CVL000", Site(module, None), f"bad convlint pragma: {e.message}", key=(e.line, e.column)))
    entries += _config_entries(project, parsed.path, module)
    # the command line (``shapes --input``) wins over a pragma or a config entry for the same model
    given = {e.name for e in extra_entries}
    entries = [e for e in entries if e.name not in given]
    entries += [_located(e, parsed.tree) for e in extra_entries]
    # a test file's test functions that run a model (smoke tests declare config-driven models)
    entries += [e for e in pytest_entries(parsed.path, parsed.tree) if e.name not in given]
    if only is not None:
        entries = [e for e in entries if e.name == only or (e.kind == "test" and e.name.split("[")[0] == only)]

    # script code first: executing the module's top level is the `<module>` entry
    script = Entry("<module>", "module", parsed.tree, None, None, {}, "auto", 1)
    runs = [run_entry(interp, module, script)]
    declared_names = {e.name for e in entries}
    for e in entries:
        runs.append(run_entry(interp, module, e))
    # the models script code and tests applied only to data of unknown shape, each on its own
    for r in list(runs):
        runs += [run_applied(interp, module, r, inst, call) for inst, call in r.unapplied]
    # every framework module class of this file, with its defaults (no declared input) — or the
    # one asked for by name (``shapes model.py::VAE``) when nothing declares it
    if only is None or only not in declared_names:
        scope = module.scope
        for stmt in parsed.tree.body:
            if only is not None and (not isinstance(stmt, cst.ClassDef) or stmt.name.value != only):
                continue
            if isinstance(stmt, cst.ClassDef) and stmt.name.value not in declared_names:
                cls = scope.vars.get(stmt.name.value) if scope else None
                # (a subclass of a framework layer — ``class Upsample2x(nn.Upsample)`` — is a layer:
                # its base's defaults are no model; it is checked where it is built)
                if isinstance(cls, ClassVal) and cls.framework and cls.node is stmt and not _layer_subclass(cls):
                    runs.append(run_entry(interp, module, Entry(stmt.name.value, "class", stmt, None, None, {}, "auto", 1)))
        # ``ResNet18 = partial(ResNet, …)``: a model class with some of its arguments
        runs += [run_entry(interp, module, e) for e in partial_entries(parsed.tree, scope) if e.name not in declared_names and only in (None, e.name)]
    reached: set = set()
    # declared models first: where two entries see the same problem, the declared one words it
    runs = [r for r in runs if r.entry.source != "auto"] + [r for r in runs if r.entry.source == "auto"]
    for r in runs:
        reached |= r.trace.reached
    issues += _check(_checked_runs(runs), label=lambda r: _entry_label(project, r))
    _suggest_sizes(interp, module, runs)
    for r in runs:  # an engine failure is said, where it stopped following the entry
        why = r.trace.incomplete or ""
        if why.startswith(INTERNAL_ERROR):
            node = r.entry.node if r.entry.kind != "module" else (parsed.tree.body[0] if parsed.tree.body else None)
            issues.append(Issue("CVL008", Site(module, node), f"convlint stopped following {r.entry.name}: {why} — what follows it was not checked; "
                                "please report this", key=("internal", r.entry.name)))
    if only is None:
        issues += _static_pass(interp, module, reached)
    confirm = getattr(project, "confirm", None) or getattr(project.config, "confirm", None)
    if confirm:
        from convlint.confirm.confirm import confirm_runs

        issues += confirm_runs(confirm, runs, module, project)
    result.runs = [r for r in runs if r.entry.kind != "module" or r.trace.events]
    result.findings = _to_findings(issues, project.config)
    return result


def _checked_runs(runs: list) -> list:
    """The runs whose findings count: a block class run on its own with its defaults is dropped
    when another entry of the analysis applied it to a tensor — it is checked where it is used,
    with the arguments its model gives it (timm's ``Mixed3a`` defaults to a ``conv_block`` whose
    padding does not fit; ``InceptionV4`` builds it with one that does)."""
    out = []
    for r in runs:
        if _auto_class(r) and r.entry.node is not None:
            node = id(r.entry.node)
            if any(node in o.trace.applied and _decides_for_its_blocks(o) for o in runs if o is not r and o.entry.node is not r.entry.node):
                continue
        out.append(r)
    return out


def _auto_class(run) -> bool:
    return run.entry.source == "auto" and run.entry.kind == "class"


def _decides_for_its_blocks(run) -> bool:
    """Whether the arguments a run's model gives its blocks are its model's: not so for a class run
    on its own that needs constructor arguments convlint cannot make up (``ResNetStage`` without
    its ``block_size``, ``first_stride``): its blocks are checked on their own too."""
    from convlint.interpret.entries import open_parameters

    if not _auto_class(run) or run.module is None or run.module.scope is None:
        return True
    cls = run.module.scope.vars.get(run.entry.name)
    return not isinstance(cls, ClassVal) or not open_parameters(cls)[2]


def _located(entry: Entry, tree) -> Entry:
    """An entry declared outside the file (``--input``) gets its class or def node and kind."""
    if entry.node is None:
        for stmt in tree.body:
            if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and stmt.name.value == entry.name:
                entry.node = stmt
                entry.kind = "class" if isinstance(stmt, cst.ClassDef) else "function"
    return entry


def _config_entries(project: Project, display: str, module) -> list[Entry]:
    cfg = project.config
    if cfg is None or not getattr(cfg, "models", None):
        return []
    here = os.path.abspath(module.path)
    out = []
    for m in cfg.models:
        if os.path.abspath(str(m.path)) != here:
            continue
        node = None
        kind = "module" if m.name == "<module>" else "class"
        for stmt in module.tree.body:
            if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)) and stmt.name.value == m.name:
                node = stmt
                kind = "class" if isinstance(stmt, cst.ClassDef) else "function"
        inputs = m.input if isinstance(m.input, dict) else [m.input]
        out.append(Entry(m.name, kind, node, inputs, m.output, dict(m.init), "config", 1, call=dict(m.call), dtypes=dict(m.dtypes)))
    return out


# ------------------------------------------------------------------------------------------ unreached sites

def _conv_calls(tree: cst.Module):
    """(call node, enclosing FunctionDef chain) for every call in the module.

    A plain walk over dataclass fields: LibCST visitors rebuild every node and cost several times more.
    """
    out = []
    stack = [(tree, ())]
    Call, FunctionDef = cst.Call, cst.FunctionDef
    while stack:
        node, fns = stack.pop()
        t = type(node)
        if t is Call:
            out.append((node, fns))
        elif t is FunctionDef:
            fns = fns + (node,)
        stack.extend([(child, fns) for child in children(node)])
    return out


def _static_pass(interp: Interpreter, module: ModuleInfo, reached: set) -> list[Issue]:
    """CVL001/CVL008 for conv-family calls no entry reached: interpret the enclosing function
    with its parameters' defaults (unknown where there is none)."""
    issues: list[Issue] = []
    scope = module.scope
    if scope is None:
        return issues
    # only conv-family calls matter; resolving the callee in module scope is cheap
    calls = []
    for c, fns in _conv_calls(module.tree):
        if id(c) not in reached:
            op = _resolve_static(interp, scope, c)
            if op is not None:
                calls.append((c, fns, op))
    if not calls:
        return issues
    # run each enclosing function once
    done_fns = set()
    trace = Trace()
    interp.trace = trace
    interp.declared = False  # a function run with its parameters' defaults: a None there is a placeholder
    for call, fns, _op in calls:
        if not fns:
            continue
        fn_node = fns[-1]
        if id(fn_node) in done_fns:
            continue
        done_fns.add(id(fn_node))
        fnval = _function_value(scope, fns)
        if fnval is None:
            continue
        interp.steps = 0
        args = []
        if fnval.owner is not None:
            args = [Instance(fnval.owner)]
        try:
            with interp.in_module(module):
                params = fnval.node.params
                positional = [*params.posonly_params, *params.params]
                if fnval.owner is not None:
                    positional = positional[1:]
                for p in positional:
                    name = p.name.value
                    args.append(fnval.defaults.get(name, Unknown(f"parameter {name!r} of {fnval.qualname}")))
                interp.call_function(fnval, args, {}, None)
        except (BudgetExceeded, Dead, Return, RecursionError):
            pass
        except Exception:
            if os.environ.get("CONVLINT_DEBUG"):
                raise
    reached2 = reached | trace.reached
    for call, _fns, op in calls:
        if id(call) not in reached2:
            trace.record(UnresolvedEvent(Site(module, call), op, (), never_reached=True))
    static = ModelRun(Entry("<static>", "module", None, source="auto"), module.path, trace, module=module)
    return _check([static], codes=("CVL001", "CVL008"))


def _resolve_static(interp, scope, call) -> str | None:
    """The catalogue name of a call's callee when its expression is a plain (dotted) name."""
    func = call.func
    node = func
    while isinstance(node, cst.Attribute):
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    try:
        v = interp.eval(func, scope)
    except Exception:
        return None
    if isinstance(v, Op) and v.qualname in CONV_FAMILY:
        return v.qualname
    return None


def _function_value(scope, fns) -> FunctionVal | None:
    """The FunctionVal of the innermost-first chain of defs, found through module and class scopes."""
    outer = fns[0]
    for v in scope.vars.values():
        v = unwrap(v)
        if isinstance(v, FunctionVal) and v.node is outer:
            return v if len(fns) == 1 else None
        if isinstance(v, ClassVal):
            for a in v.attrs.values():
                fv = unwrap(a)
                if isinstance(fv, FunctionVal) and fv.node is outer:
                    return fv if len(fns) == 1 else None
    return None


# ------------------------------------------------------------------------------------------ findings

def _parse_error_finding(path: str, err) -> Finding:
    if isinstance(err, SyntaxError):  # CPython's parser (ast) rejected it
        line = err.lineno or 1
        col = err.offset or 1
        msg = err.msg or "syntax error"
    else:  # LibCST's ParserSyntaxError
        line = getattr(err, "raw_line", None) or getattr(err, "line", None) or 1
        col = (getattr(err, "raw_column", None) or getattr(err, "column", 0) or 0) + 1
        msg = getattr(err, "message", None) or (str(err).splitlines()[0] if str(err) else "syntax error")
    if isinstance(err, RecursionError):
        msg = "the file nests too deeply to parse"
    elif isinstance(err, ValueError) and not isinstance(err, SyntaxError):
        msg = str(err) or "invalid source"
    elif isinstance(err, MemoryError):
        msg = "the file is too large to parse"
    return Finding("CVL000", "error", f"cannot parse: {msg}", path, int(line), int(col), int(line), int(col) + 1)


def _severity(code: str) -> str:
    from convlint.rules import get_rule

    r = get_rule(code)
    return r.severity if r is not None else "error"


def _to_findings(issues: list[Issue], config=None) -> list[Finding]:
    out = {}
    for iss in issues:
        site = iss.site
        # a layer built in a helper from values its caller passed: the finding belongs at that call
        supplied = where_supplied(iss.layer, iss.arguments)
        spec = iss.fix
        if iss.at_caller:
            outer = where_supplied(iss.layer, iss.arguments, via=True)
            if outer is not None and (supplied is None or outer.node is not supplied.node):
                supplied = outer
                spec = None  # the caller's value feeds several layers: no one-keyword repair
        related: tuple = ()
        if supplied is not None and supplied.module is not None and supplied.module.parsed is not None:
            related = _helper_line(iss.layer, site)
            site = supplied
        if config is not None and hasattr(config, "is_selected") and site.module is not None:
            # positions cost a pass over the module: none for findings nobody will see
            if not config.is_selected(iss.code, os.path.abspath(site.module.path)):
                continue
        parsed = site.module.parsed if site.module is not None else None
        if parsed is None:
            continue
        if site.node is None:
            line, col = iss.key[:2] if len(iss.key) >= 2 else (1, 1)
            pos = (line, col, line, col + 1)
        else:
            pos = parsed.position(site.node)
            if pos is None:
                continue
        related += _related(iss.related)
        fix = None
        if spec is not None:
            fix = _fix(parsed, spec) if supplied is None else _fix_at_caller(parsed, spec, iss.layer, supplied)
        f = Finding(iss.code, _severity(iss.code), iss.message, parsed.path, pos[0], pos[1], pos[2], pos[3], fix, related=related)
        # one finding per rule and place: a line that builds several layers (a helper called in
        # a loop) reports the first and counts the others; the same problem seen by two entries
        # (same sizes: the issue's key) is one use
        key = (f.code, f.path, f.line, f.column)
        if key not in out:
            out[key] = [f, set(), iss.key]
        elif iss.key != out[key][2] and f.message != out[key][0].message:
            out[key][1].add(f.message)
    merged = []
    for f, others, _key in out.values():
        if others:
            n = len(others)
            f = Finding(f.code, f.severity, f"{f.message} (and {n} more use{'s' if n > 1 else ''} of this line)", f.path, f.line, f.column, f.end_line, f.end_column, None,
                        related=f.related)  # several uses: no certain fix
        merged.append(f)
    return sorted(merged, key=Finding.sort_key)


def _helper_line(layer, site) -> tuple:
    """The related location of a finding reported at the caller: the helper's line that builds the layer."""
    from convlint.findings import Related

    parsed = site.module.parsed if site.module is not None else None
    pos = parsed.position(site.node) if parsed is not None and site.node is not None else None
    if pos is None:
        return ()
    op = getattr(layer, "op", "layer").rsplit(".", 1)[-1]
    helper = getattr(layer, "extra", {}).get("built_in")
    where = f" inside {helper}()" if helper and not helper.startswith("<") else ""
    return (Related(f"the {op} is built from this call's arguments{where}", parsed.path, *pos),)


def _related(pairs) -> tuple:
    from convlint.findings import Related

    out = []
    for message, site in pairs:
        parsed = site.module.parsed if site is not None and site.module is not None else None
        pos = parsed.position(site.node) if parsed is not None and site.node is not None else None
        if pos is not None:
            out.append(Related(message, parsed.path, *pos))
    return tuple(out)


def _fix_at_caller(parsed, spec, layer, supplied) -> Fix | None:
    """The fix of a layer built in a helper, made where its caller wrote the values: each argument
    to set is replaced in the calling expression (a literal), or added as a keyword to the call
    whose ``**kwargs`` reach the layer."""
    from convlint.interpret.values import Origin

    origins = layer.extra.get("origins") or {}
    edits = []
    inserts = []
    for name, src in spec.set_args.items():
        o = origins.get(name)
        if isinstance(o, Origin):
            if o.site.module is not supplied.module or not _literal(o.site.node):
                return None
            pos = parsed.position(o.site.node)
            if pos is None:
                return None
            edits.append((pos[0], pos[1], pos[2], pos[3], src))
        else:
            inserts.append((name, src))
    if inserts:
        more = _fix(parsed, type(spec)(spec.message, supplied.node, dict(inserts)))
        if more is None:
            return None
        edits.extend(more.edits)
    return Fix(spec.message, spec.replacement, tuple(edits))


def _literal(node) -> bool:
    if isinstance(node, (cst.Integer, cst.SimpleString)):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.expression, cst.Integer):
        return True
    if isinstance(node, (cst.Tuple, cst.List)):
        return all(_literal(e.value) for e in node.elements)
    return False


def _fix(parsed, spec) -> Fix | None:
    """Text edits for a FixSpec: replace an existing argument's value, or insert a keyword."""
    call = spec.call
    edits = []
    args = list(call.args)
    for name, src in spec.set_args.items():
        target = None
        for i, a in enumerate(args):
            if a.keyword is not None and a.keyword.value == name:
                target = a.value
                break
        if target is None:
            idx = spec.positional_index.get(name)
            if idx is not None and idx < len(args) and all(a.keyword is None and not a.star for a in args[: idx + 1]):
                target = args[idx].value
        if target is not None:
            if not _literal(target):
                return None  # replacing an expression would change what other callers get
            pos = parsed.position(target)
            if pos is None:
                return None
            edits.append((pos[0], pos[1], pos[2], pos[3], src))
        else:
            if any(a.star for a in args):
                return None
            if args:
                last = args[-1]
                pos = parsed.position(last)  # the whole argument: a parenthesised value's ")" too
                if pos is None:
                    return None
                if isinstance(last.comma, cst.Comma):  # ``f(a, b,)``: after the trailing comma
                    edits.append((pos[2], pos[3], pos[2], pos[3], f" {name}={src},"))
                else:
                    edits.append((pos[2], pos[3], pos[2], pos[3], f", {name}={src}"))
            else:
                pos = parsed.position(call)
                if pos is None:
                    return None
                edits.append((pos[2], pos[3] - 1, pos[2], pos[3] - 1, f"{name}={src}"))
    return Fix(spec.message, spec.replacement, tuple(edits))
