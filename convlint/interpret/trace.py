"""What one interpreter run records: layer applications, merges, and the issues rules turn into findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convlint.interpret.values import Site


@dataclass(eq=False)
class LayerEvent:
    site: Site  # where the layer was built (for a functional call: the call)
    call_site: Site | None  # where it was applied
    op: str
    input: tuple | None
    output: tuple | None
    layer: Any = None  # the Layer value, None for functional calls
    params: dict = field(default_factory=dict)
    windows: tuple = ()  # canonical windows of a conv/pool, when known
    name: str | None = None


@dataclass(eq=False)
class Issue:
    """A rule violation seen during interpretation, before positions are resolved."""

    code: str
    site: Site
    message: str
    fix: Any = None  # FixSpec or None
    key: tuple = ()  # dedup key beyond (code, site)


@dataclass(eq=False)
class FixSpec:
    """A certain repair of a call: set keyword arguments to source expressions."""

    message: str
    call: Any  # cst.Call
    set_args: dict  # name -> source text
    positional_index: dict = field(default_factory=dict)  # name -> positional index if the arg may be positional

    @property
    def replacement(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.set_args.items())


@dataclass
class Trace:
    events: list = field(default_factory=list)
    issues: list = field(default_factory=list)
    reached: set = field(default_factory=set)  # ids of call nodes evaluated (conv sites reached)
    downs: list = field(default_factory=list)  # unpaired downsampling steps in execution order
    ups: list = field(default_factory=list)  # upsampling PairSteps (checked at the end)
    incomplete: str | None = None
    layers: list = field(default_factory=list)  # conv layers built (for CVL008)

    def issue(self, code: str, site: Site, message: str, fix=None, key: tuple = ()) -> None:
        self.issues.append(Issue(code, site, message, fix, key))
