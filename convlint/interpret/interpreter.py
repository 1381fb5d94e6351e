"""The abstract interpreter: evaluates the part of Python that model code uses, on abstract values.

Framework calls are replaced by shape functions from :mod:`convlint.frameworks` (the interpreter
talks to them only through :class:`~convlint.frameworks.protocol.FrameworkSupport`); user functions
and classes are interpreted from their LibCST trees. The evaluator is split the way mypy splits
its checker: statements (:mod:`.statements`), expressions (:mod:`.expressions`) and calls
(:mod:`.calls`) are mixins of :class:`Interpreter`, which holds the state — the project, the
trace being recorded, the work budget and the module being evaluated. Scopes are in
:mod:`.scope`, the value lattice and branch joins in :mod:`.lattice`.

Loops unroll up to a bound, unknown conditions run both branches and join, and every bound that
is hit yields unknowns, never a hang or a finding. Nothing of the checked code is imported or run.
"""

from __future__ import annotations

from contextlib import contextmanager

from convlint.interpret.calls import MAX_DEPTH, CallEvaluator
from convlint.interpret.events import Trace
from convlint.interpret.expressions import ExpressionEvaluator
from convlint.interpret.flow import Break, BudgetExceeded, Continue, Dead, Return
from convlint.interpret.lattice import first_unknown, is_known, join
from convlint.interpret.scope import ModuleScope, Scope
from convlint.interpret.statements import MAX_LOOP, StatementEvaluator
from convlint.interpret.values import MISSING, ExternalRef, Site, Unknown

__all__ = ["Interpreter", "Scope", "BudgetExceeded", "is_known", "join", "first_unknown", "MAX_STEPS", "MAX_FILE_STEPS", "MAX_DEPTH", "MAX_LOOP"]

MAX_STEPS = 200_000  # per entry (a model run, a module's top level)
MAX_FILE_STEPS = 1_000_000  # per analysed file


class Interpreter(StatementEvaluator, ExpressionEvaluator, CallEvaluator):
    """Evaluates modules, classes and functions of one project on abstract values."""

    def __init__(self, project, frameworks, trace: Trace | None = None):
        self.project = project
        self.fw = frameworks  # FrameworkSupport
        self.trace = trace or Trace()
        self.steps = 0
        self.total_steps = 0  # across every entry of one file: bounds the file's analysis time
        self.depth = 0
        self.active_calls: set = set()
        self.call_stack: list = []
        self.building = 0  # constructors being run (a model built outside any other names its layers)
        self.declared = False  # the entry being run is a declared path: a None its code passes is a fact, not a placeholder
        self.undecided = 0  # > 0 inside a branch taken on an unknown condition (a path, not the path)
        self.current_function = None  # the FunctionVal being run (a layer records the helper that built it)
        self.call_context = None  # (scope, call node, callee, number of positional values) of the call being made: where its arguments' origins are
        self.current_module = None
        self.script_entry = False  # the entry is script code or a test (entries.run_entry)
        self.model_depth = 0  # model calls being run (frameworks.call_instance)
        self.unknown_loops = 0  # loops over an unknown iterable followed so far (statements._stmt_For)
        self.unknown_applications = 0  # script code's model calls on data of unknown shape so far (frameworks.call_instance)
        self.unapplied: dict | None = None  # script code's models applied only to data of unknown shape (entries.run_applied)
        self._in_getattr: set = set()  # (instance id, name) whose user ``__getattr__`` is running
        self.shape_names: dict = {}  # (scope id, name) -> (tensor, value): ``shape = x.shape`` of a rank not known (statements._shape_source)

    # ------------------------------------------------------------------ budget / helpers
    def tick(self, n: int = 1) -> None:
        self.steps += n
        self.total_steps += n
        if self.steps > MAX_STEPS:
            raise BudgetExceeded("step budget exhausted")
        if self.total_steps > MAX_FILE_STEPS:
            raise BudgetExceeded("the file's step budget is exhausted")

    def site(self, node, module=None) -> Site:
        return Site(module or self.current_module, node)

    @contextmanager
    def in_module(self, module):
        prev = self.current_module
        self.current_module = module
        try:
            yield
        finally:
            self.current_module = prev

    # ------------------------------------------------------------------ modules
    def module_globals(self, module) -> Scope:
        """The module's global scope.

        The analysed file runs its whole top level (it is script code too). An imported module is
        a :class:`ModuleScope`: a name is looked up by running only the top-level statement that
        binds it (and the later ones that mutate it).
        """
        if module.scope is not None:
            return module.scope
        if not module.main:
            module.scope = ModuleScope(self, module)
            return module.scope
        scope = Scope(None, "module")
        scope.vars["__name__"] = module.name
        scope.vars["__file__"] = module.path
        module.scope = scope
        with self.in_module(module):
            try:
                self.exec_block(module.tree.body, scope)
            except (Return, Break, Continue, Dead):
                pass
            except BudgetExceeded:
                module.incomplete = True
        return scope

    def import_module(self, dotted: str, level: int = 0, importer=None):
        """A module value: a project module (interpreted), a catalogue module, or an ExternalRef."""
        if level == 0:
            fwmod = self.fw.module(dotted)
            if fwmod is not None:
                return fwmod
        info = self.project.find_module(dotted, level, importer or self.current_module)
        if info is not None:
            return info
        if level == 0:
            return ExternalRef(dotted)
        return Unknown(f"module {'.' * level}{dotted} not found")

    def module_attr(self, module, name: str):
        scope = self.module_globals(module)
        v = scope.lookup(name)
        if v is MISSING:
            sub = self.project.find_module(name, 1, module, package_of=True)
            if sub is not None:
                return sub
            return Unknown(f"{module.name}.{name} not found")
        return v
