"""``from m import a, b`` in an imported module binds its names lazily: a package whose
``__init__`` re-exports every model (diffusers, timm) must not cost the analysis of all of them.

The analysis must read exactly what it did when every import was eager: the same findings, the
same values through branches, try blocks, star imports and circular imports; only the modules no
name of which is read are left unread (and are then no dependency of the cached result)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from convlint.analysis import Project, analyze_file


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


BLOCK = """\
    import torch.nn as nn


    class Down(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, 4, stride=2, padding=1)

        def forward(self, x):
            return self.conv(x)
    """

# a package __init__ in the style of diffusers': every model re-exported under a condition the
# analysis cannot decide (``TYPE_CHECKING or SLOW_IMPORT``), the lazy module object otherwise
PACKAGE = {
    "pkg/__init__.py": """\
        import sys
        from typing import TYPE_CHECKING
        from .utils import SLOW_IMPORT, is_torch_available

        if TYPE_CHECKING or SLOW_IMPORT:
            try:
                if not is_torch_available():
                    raise ImportError()
            except ImportError:
                from .dummy import *
            else:
                from .blocks import Down
                from .heavy import Heavy, Other
                from .broken import Broken
        else:
            sys.modules[__name__] = object()
        """,
    "pkg/utils.py": """\
        import os

        SLOW_IMPORT = os.environ.get("SLOW_IMPORT", "0") == "1"


        def is_torch_available():
            return True
        """,
    "pkg/dummy.py": """\
        class Down:
            def __init__(self, *args, **kwargs):
                raise ImportError("torch is required")
        """,
    "pkg/blocks.py": BLOCK,
    "pkg/heavy.py": """\
        import torch.nn as nn
        from .blocks import Down


        class Heavy(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)

            def forward(self, x):
                return self.conv(x)


        Other = Heavy
        """,
    "pkg/broken.py": "class Broken(:\n    pass\n",
}

MODEL = """\
    import torch.nn as nn
    from pkg import Down


    # convlint: input=(1, 3, 32, 32)
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = Down(3, 16)
            self.b = Down(8, 32)

        def forward(self, x):
            return self.b(self.a(x))
    """


def _analyze(root: Path, rel: str = "model.py"):
    path = root / rel
    return analyze_file(Project(root), str(path), path.read_text())


def _deps(res) -> set[str]:
    return {os.path.basename(d) if not d.endswith("__init__.py") else d.replace(os.sep, "/").split("/")[-2] + "/__init__.py" for d in res.deps}


def test_a_reexported_name_is_followed_and_the_rest_of_the_package_is_not_read(tmp_path):
    _tree(tmp_path, {**PACKAGE, "model.py": MODEL})
    res = _analyze(tmp_path)
    codes = sorted((f.code, os.path.basename(f.path), f.line) for f in res.findings)
    # the channel mismatch is found through the package's re-export (16 channels into Down(8, ...))
    assert ("CVL003", "model.py", 10) in codes
    deps = _deps(res)
    assert {"pkg/__init__.py", "blocks.py"} <= deps
    assert "heavy.py" not in deps and "broken.py" not in deps  # never read: no dependency either


def test_names_read_through_a_lazy_import_keep_their_values_through_modules(tmp_path):
    files = {
        **PACKAGE,
        # ``Other`` is an alias bound in heavy.py; ``Again`` is re-imported through two packages
        "pkg2/__init__.py": "from pkg import Other\nfrom pkg import Down as Again\n",
        "model.py": """\
            import torch.nn as nn
            from pkg2 import Other, Again


            # convlint: input=(1, 3, 32, 32)
            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.h = Other()
                    self.d = Again(8, 8)

                def forward(self, x):
                    return self.d(self.h(x))
            """,
    }
    _tree(tmp_path, files)
    res = _analyze(tmp_path)
    assert not res.findings
    run = next(r for r in res.runs if r.entry.name == "Net")
    convs = [e for e in run.trace.events if e.op.endswith("Conv2d")]
    assert [tuple(e.output) for e in convs] == [(1, 8, 30, 30), (1, 8, 15, 15)]


def test_two_branches_binding_different_classes_follow_both_not_either(tmp_path):
    files = {
        "pkg/__init__.py": """\
            import os

            if os.environ.get("SMALL"):
                from .small import Down
            else:
                from .large import Down
            """,
        "pkg/small.py": BLOCK,
        "pkg/large.py": BLOCK.replace("4, stride=2, padding=1", "3, stride=1, padding=1"),
        "model.py": MODEL,
    }
    _tree(tmp_path, files)
    res = _analyze(tmp_path)
    # which Down runs is unknown: the engine does not pick one of the two, it follows both (the
    # name is one of them, values.OneOf) — and Down(3, 16) then Down(8, 32) is wrong either way
    outputs = {tuple(e.output) for r in res.runs for e in r.trace.events if e.label == "a.conv"}
    assert outputs == {(1, 16, 16, 16), (1, 16, 32, 32)}
    assert [(f.code, f.line) for f in res.findings if f.code == "CVL003"] == [("CVL003", 10)]


def test_the_same_import_in_both_branches_stays_known(tmp_path):
    files = {
        "pkg/__init__.py": """\
            import os

            if os.environ.get("FAST"):
                from .blocks import Down
                FAST = True
            else:
                from .blocks import Down
                FAST = False
            """,
        "pkg/blocks.py": BLOCK,
        "model.py": MODEL,
    }
    _tree(tmp_path, files)
    res = _analyze(tmp_path)
    assert ("CVL003", 10) in [(f.code, f.line) for f in res.findings]


def test_circular_imports_between_modules_end(tmp_path):
    files = {
        "pkg/__init__.py": "from .a import Down, helper\n",
        "pkg/a.py": textwrap.dedent(BLOCK) + "\nfrom .b import helper\n",
        "pkg/b.py": "from .a import Down\n\n\ndef helper():\n    return Down\n",
        "model.py": MODEL.replace("from pkg import Down", "from pkg import helper\n\n    Down = helper()"),
    }
    _tree(tmp_path, files)
    res = _analyze(tmp_path)
    assert [(f.code, f.line) for f in res.findings if f.code == "CVL003"] == [("CVL003", 12)]


def test_a_star_import_into_the_analysed_file_binds_real_values(tmp_path):
    files = {**PACKAGE, "pkg/all.py": "from .blocks import *\nfrom .heavy import Heavy\n", "model.py": MODEL.replace("from pkg import Down", "from pkg.all import *")}
    _tree(tmp_path, files)
    res = _analyze(tmp_path)
    assert ("CVL003", 10) in [(f.code, f.line) for f in res.findings]


def test_defaults_of_a_header_parsed_on_first_use_are_the_ones_python_gives(tmp_path):
    """An imported method whose defaults are literals is read without its parameters until it is
    called; the defaults it then gets are the written ones — a non-literal default (a module
    constant) keeps its header. Without either default the sizes below would be unknown."""
    (tmp_path / "blocks.py").write_text(
        "from torch import nn\n"
        "\n"
        "K = 5\n"
        "\n"
        "\n"
        "class Down(nn.Module):\n"
        "    def __init__(self, cin, cout, k=3, stride=(2, 2), pad=-1, names={'a': [1, 2]}, *, extra=None):\n"
        "        super().__init__()\n"
        "        p = k // 2 if pad < 0 else pad\n"
        "        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=p)\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)\n"
        "\n"
        "\n"
        "class Wide(nn.Module):\n"
        "    def __init__(self, cin, cout, k=K):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(cin, cout, k)\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)\n"
    )
    src = (
        "from torch import nn\n"
        "from blocks import Down, Wide\n"
        "\n"
        "\n"
        "class Net(nn.Module):  # convlint: input=(1, 3, 8, 8)\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.down = Down(3, 8)\n"
        "        self.wide = Wide(8, 8)\n"
        "\n"
        "    def forward(self, x):\n"
        "        return self.wide(self.down(x))\n"
    )
    path = tmp_path / "net.py"
    path.write_text(src)
    found = [f for f in analyze_file(Project(str(tmp_path)), str(path), src).findings if f.severity != "info"]
    # 8 -> 4 (k=3, stride 2, padding 1) -> 4 - 5 + 1 = 0 (k=K=5)
    assert [(f.code, os.path.basename(f.path), f.line) for f in found] == [("CVL002", "blocks.py", 19)], found
    assert "output size 0" in found[0].message


# ------------------------------------------------------------------------------ star imports
# ``from m import *`` in an imported module is followed for the one name looked up; Python, run
# for real in a fresh interpreter, is the oracle for which module's binding each name gets.

STARS = {
    "sp/__init__.py": """\
        from .a import *
        from .b import *
        try:
            from .f import *
        except ImportError:
            pass
        from .g import *
        from os.path import *
        """,
    "sp/a.py": 'X = 1\nY = "a"\n_P = 10\nQ = "a-q"\n',
    "sp/b.py": 'from .d import *\nY = "b"\n',
    "sp/d.py": 'Z = 3\nW = "d"\n__all__ = ["Z", "W", "_D"]\n_D = 4\n',
    "sp/f.py": "V = 5\n",
    "sp/g.py": '__all__ = ["G"]\nG = 7\nQ = "g-q"\n',
    # a cycle of star imports: Python's partly initialised modules give A and B
    "cy/__init__.py": "from .m1 import *\n",
    "cy/m1.py": "from .m2 import *\nA = 1\n",
    "cy/m2.py": "from .m1 import *\nB = 2\n",
    # PyTorch-VAE's models package: every model file star-imported, each importing the base class
    # back from the package (which holds it from the first star import when Python gets there)
    "vp/__init__.py": "from .base import *\nfrom .m1 import *\nfrom .m2 import *\n\nVAE = M1\n",
    "vp/base.py": 'class Base:\n    kind = "base"\n',
    "vp/m1.py": "from vp import Base\n\n\nclass M1(Base):\n    depth = 1\n",
    "vp/m2.py": "from vp import Base\n\n\nclass M2(Base):\n    depth = 2\n",
}


def _python_values(root: Path, source: str, names: list[str]) -> dict:
    import json
    import subprocess
    import sys

    code = source + "\nimport json\nprint(json.dumps({n: globals()[n] for n in " + repr(names) + "}))\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _convlint_values(root: Path, source: str, names: list[str]) -> dict:
    from convlint.config import Config
    from convlint.frameworks import FRAMEWORKS
    from convlint.interpret.interpreter import Interpreter

    path = root / "snippet.py"
    path.write_text(source)
    project = Project(str(root), config=Config.default(str(root)))
    project.begin(str(path))
    scope = Interpreter(project, FRAMEWORKS).module_globals(project.info(str(path)))
    return {n: scope.vars.get(n) for n in names}


def test_star_imports_bind_what_python_binds(tmp_path):
    _tree(tmp_path, STARS)
    source = ("from sp import X, Y, Z, W, V, G, Q\nfrom sp.b import _D\nfrom cy import A, B\n"
              "from vp import Base, M2, VAE\nk0, k2, d2, dv = Base.kind, M2.kind, M2.depth, VAE.depth\n")
    names = ["X", "Y", "Z", "W", "V", "G", "Q", "_D", "A", "B", "k0", "k2", "d2", "dv"]
    real = _python_values(tmp_path, source, names)
    assert real == {"X": 1, "Y": "b", "Z": 3, "W": "d", "V": 5, "G": 7, "Q": "a-q", "_D": 4, "A": 1, "B": 2,
                    "k0": "base", "k2": "base", "d2": 2, "dv": 1}  # (the fixture's point)
    assert _convlint_values(tmp_path, source, names) == real


def test_a_name_no_star_import_binds_is_not_made_up(tmp_path):
    """A private name (``_P``), a name outside a module's ``__all__`` (g's ``Q`` is a's) and a name
    nothing binds, around a cycle of star imports: Python's default, never a value of the wrong module."""
    _tree(tmp_path, STARS)
    source = 'import sp, cy\np = getattr(sp, "_P", "none")\nd = getattr(sp, "_D", "none")\nc = getattr(cy, "C", "none")\n'
    names = ["p", "d", "c"]
    real = _python_values(tmp_path, source, names)
    assert real == {"p": "none", "d": "none", "c": "none"}
    got = _convlint_values(tmp_path, source, names)
    from convlint.interpret.values import Unknown

    for n in names:  # unknown is allowed; a known value must be Python's
        assert isinstance(got[n], Unknown) or got[n] == real[n], (n, got[n])


def test_one_name_read_through_a_star_import_runs_only_the_module_that_binds_it(tmp_path):
    """``timm.models`` star-imports every model file: a name read through it must not run them all
    (each module's statements that ran are the analysis' dependencies on it)."""
    files = {"zoo/__init__.py": "".join(f"from .m{i} import *\n" for i in range(6)), "model.py": "from zoo import N3\n"}
    for i in range(6):
        files[f"zoo/m{i}.py"] = f"N{i} = {i}\nBIG{i} = [{i}] * 3\n"
    _tree(tmp_path, files)
    res = _analyze(tmp_path)
    ran = {os.path.basename(d): sorted(v["reached"]) for d, v in res.deps.items() if isinstance(v, dict)}
    assert ran["m3.py"] == [0]  # ``N3 = 3`` alone
    assert not any(ran.get(f"m{i}.py") for i in (0, 1, 2, 4, 5))
