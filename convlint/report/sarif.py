"""``--format sarif``: SARIF 2.1.0, as GitHub code scanning accepts it.

One run; ``tool.driver`` lists every rule of the registry (id, name, short and full description,
help as text and markdown from ``Rule.documentation()``, default level); each result has its
``ruleId`` and ``ruleIndex``, ``level``, ``message.text`` and a physical location whose URI is
relative to the project root (forward slashes, ``uriBaseId`` ``%SRCROOT%``) with a 1-based
region (``endColumn`` exclusive, as in convlint). A finding whose fix has edits carries ``fixes``
(``artifactChanges`` with ``replacements``: ``deletedRegion`` + ``insertedContent``). A finding
reported at the call that passed a wrong value to a helper lists the helper's line that builds the
layer in ``relatedLocations``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

from convlint.findings import ERROR, INFO, WARNING, Finding
from convlint.report import ReportOptions, escape_json

SCHEMA_URI = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/convlint/"
_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _rules() -> list[dict[str, Any]]:
    try:
        from convlint.rules import all_rules

        registry = all_rules()
    except ImportError:
        registry = {}
    out = []
    for code, rule in registry.items():
        doc = rule.documentation()
        out.append(
            {
                "id": code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": " ".join(rule.what.split())},
                "help": {"text": doc, "markdown": doc},
                "defaultConfiguration": {"level": _LEVEL.get(rule.severity, "error"), "enabled": rule.default_enabled},
                "properties": {"tags": ["convolution", "shapes"]},
            }
        )
    return out


def _uri(path: str, root: Path | None) -> str:
    p = Path(path)
    if root is not None:
        try:
            return Path(os.path.abspath(p)).relative_to(root).as_posix()
        except ValueError:
            pass
    if p.is_absolute():
        return p.as_uri()
    return p.as_posix().removeprefix("./")


def _region(line: int, col: int, end_line: int, end_col: int) -> dict[str, int]:
    line, col = max(1, line), max(1, col)
    end_line = max(line, end_line)
    end_col = max(1, end_col)
    if end_line == line and end_col < col:
        end_col = col
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def render(findings: Sequence[Finding], options: ReportOptions | None = None) -> str:
    from convlint import __version__

    opts = options or ReportOptions()
    rules = _rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        if f.code not in index:  # a code the registry does not know (should not happen)
            index[f.code] = len(rules)
            rules.append({"id": f.code, "shortDescription": {"text": f.code}})
        uri = _uri(f.path, opts.root)
        artifact = {"uri": uri} if uri.startswith("file:") else {"uri": uri, "uriBaseId": "%SRCROOT%"}
        text = f.message
        if f.fix is not None:
            text += f" (help: {f.fix.message})"
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL.get(f.severity, "error"),
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": _region(f.line, f.column, f.end_line, f.end_column),
                    }
                }
            ],
        }
        if f.notes:
            result["properties"] = {"notes": list(f.notes)}
        if f.related:
            related = []
            for n, r in enumerate(f.related):
                ruri = _uri(r.path, opts.root)
                rartifact = {"uri": ruri} if ruri.startswith("file:") else {"uri": ruri, "uriBaseId": "%SRCROOT%"}
                related.append({
                    "id": n,
                    "message": {"text": r.message},
                    "physicalLocation": {"artifactLocation": rartifact, "region": _region(r.line, r.column, r.end_line, r.end_column)},
                })
            result["relatedLocations"] = related
        if f.fix is not None and f.fix.edits:
            result["fixes"] = [
                {
                    "description": {"text": f.fix.message},
                    "artifactChanges": [
                        {
                            "artifactLocation": artifact,
                            "replacements": [
                                {"deletedRegion": _region(a, b, c, d), "insertedContent": {"text": e}}
                                for (a, b, c, d, e) in f.fix.edits
                            ],
                        }
                    ],
                }
            ]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "convlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if opts.root is not None:
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": Path(opts.root).as_uri() + "/"}}
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return escape_json(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
