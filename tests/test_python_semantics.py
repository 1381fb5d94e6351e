"""The interpreter follows the Python that model code uses to carry its configuration: subclasses
of ``dict``, ``__getattr__``, ``hasattr``, ``functools.wraps`` + ``inspect.signature`` (diffusers'
``@register_to_config``), ``importlib.util.find_spec``. Python itself is the oracle: each snippet
runs for real, and every name the interpreter resolves must hold the value Python computed.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from convlint.analysis import Project, analyze_file
from convlint.config import Config
from convlint.frameworks import FRAMEWORKS
from convlint.interpret.interpreter import Interpreter
from convlint.interpret.values import Unknown

torch = pytest.importorskip("torch")


def _plain(v):
    """A Python value the interpreter computed, as Python would print it (None when not plain)."""
    if isinstance(v, (bool, int, float, str, type(None))):
        return v
    if isinstance(v, (list, tuple)):
        items = [_plain(x) for x in v]
        return type(v)(items) if all(x is not _NOT_PLAIN for x in items) else _NOT_PLAIN
    if isinstance(v, dict):
        items = {k: _plain(x) for k, x in v.items()}
        return items if all(x is not _NOT_PLAIN for x in items.values()) else _NOT_PLAIN
    if hasattr(v, "shape") and hasattr(v, "derive") and v.shape is not None and all(isinstance(d, int) for d in v.shape):
        return ("tensor", tuple(v.shape))
    return _NOT_PLAIN


_NOT_PLAIN = object()


def _python(v):
    import numpy

    if isinstance(v, numpy.generic):  # a numpy scalar: the Python number it holds
        return v.item()
    if isinstance(v, torch.Tensor) or (hasattr(v, "shape") and hasattr(v, "dtype") and not isinstance(v, type)):
        return ("tensor", tuple(v.shape))  # a torch tensor or a jax array
    if isinstance(v, dict):
        return {k: _python(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_python(x) for x in v)
    return v


def _both(tmp_path: Path, source: str, names: list[str]) -> tuple[dict, dict]:
    source = textwrap.dedent(source)
    path = tmp_path / "snippet.py"
    path.write_text(source)
    real: dict = {"__name__": "snippet"}
    exec(compile(source, str(path), "exec", dont_inherit=True), real)
    project = Project(str(tmp_path), config=Config.default(str(tmp_path)))
    analyze_file(project, str(path), source)
    project.begin(str(path))
    scope = Interpreter(project, FRAMEWORKS).module_globals(project.info(str(path)))
    got = {n: scope.vars.get(n) for n in names}
    return got, {n: _python(real[n]) for n in names}


def _agree(tmp_path, source, must_know: list[str], may_know: tuple[str, ...] = ()):
    got, real = _both(tmp_path, source, [*must_know, *may_know])
    for name in must_know:
        assert not isinstance(got[name], Unknown), f"{name}: {got[name]}"
        assert _plain(got[name]) == real[name], f"{name}: convlint {got[name]!r}, Python {real[name]!r}"
    for name in may_know:  # unknown is allowed; a known value must be Python's
        if not isinstance(got[name], Unknown) and _plain(got[name]) is not _NOT_PLAIN:
            assert _plain(got[name]) == real[name], f"{name}: convlint {got[name]!r}, Python {real[name]!r}"


def test_dict_subclasses_hold_their_items(tmp_path):
    _agree(tmp_path, """
        from collections import OrderedDict

        class FrozenDict(OrderedDict):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for key, value in self.items():
                    setattr(self, key, value)
                self.__frozen = True

            def __setattr__(self, name, value):
                if hasattr(self, "__frozen") and self.__frozen:
                    raise Exception("frozen")
                super().__setattr__(name, value)

        class AttrDict(dict):
            def __getattr__(self, name):
                return self[name]

        class Plain(dict):
            pass

        cfg = FrozenDict({"channels": 8, "k": 3}, extra=1)
        n = len(cfg)
        channels = cfg.channels
        k = cfg["k"]
        keys = list(cfg.keys())
        has_k = "k" in cfg
        as_dict = dict(cfg)
        unpacked = dict(**cfg)
        a = AttrDict(width=4)
        width = a.width
        a["depth"] = 2
        depth = a.get("depth")
        p = Plain([("x", 1)])
        p["y"] = 2
        items = sorted(p.items())
        total = sum(p.values())
    """, ["n", "channels", "k", "keys", "has_k", "as_dict", "unpacked", "width", "depth", "items", "total"])


def test_getattr_and_hasattr_follow_python(tmp_path):
    _agree(tmp_path, """
        import torch
        from torch import nn

        class Lazy:
            def __init__(self):
                self.table = {"a": 1}

            def __getattr__(self, name):
                if name in self.table:
                    return self.table[name]
                raise AttributeError(name)

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(1, 2, 3)

        class WithSkip(Block):
            def __init__(self):
                super().__init__()
                self.skip_conv = nn.Conv2d(1, 2, 1)

        class Config:
            scale = 2

        lz = Lazy()
        a = lz.a
        has_a = hasattr(lz, "a")
        has_b = hasattr(lz, "b")
        has_table = hasattr(lz, "table")
        b = Block()
        has_skip = hasattr(b, "skip_conv")
        has_conv = hasattr(b, "conv")
        has_forward_hook = hasattr(b, "register_forward_hook")
        has_training = hasattr(b, "training")
        w_has_skip = hasattr(WithSkip(), "skip_conv")
        c = Config()
        has_scale = hasattr(c, "scale")
        has_other = hasattr(c, "other")
        own = sorted(c.__dict__)
        c.x = 1
        own_after = sorted(c.__dict__)
    """, ["a", "has_a", "has_b", "has_table", "has_skip", "has_conv", "has_forward_hook", "has_training", "w_has_skip",
          "has_scale", "has_other", "own", "own_after"])


def test_register_to_config_pattern_is_followed_to_the_model_shapes(tmp_path):
    _agree(tmp_path, """
        import functools
        import inspect
        from collections import OrderedDict

        import torch
        from torch import nn


        class FrozenDict(OrderedDict):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for key, value in self.items():
                    setattr(self, key, value)


        class ConfigMixin:
            config_name = "config.json"

            def register_to_config(self, **kwargs):
                if not hasattr(self, "_internal_dict"):
                    internal_dict = kwargs
                else:
                    internal_dict = {**self._internal_dict, **kwargs}
                self._internal_dict = FrozenDict(internal_dict)

            @property
            def config(self):
                return self._internal_dict


        class ModelMixin(nn.Module):
            def __getattr__(self, name):
                is_in_config = "_internal_dict" in self.__dict__ and hasattr(self.__dict__["_internal_dict"], name)
                if is_in_config and name not in self.__dict__:
                    return self._internal_dict[name]
                return super().__getattr__(name)


        def register_to_config(init):
            @functools.wraps(init)
            def inner_init(self, *args, **kwargs):
                init_kwargs = {k: v for k, v in kwargs.items() if not k.startswith("_")}
                ignore = getattr(self, "ignore_for_config", [])
                new_kwargs = {}
                signature = inspect.signature(init)
                parameters = {
                    name: p.default for i, (name, p) in enumerate(signature.parameters.items()) if i > 0 and name not in ignore
                }
                for arg, name in zip(args, parameters.keys()):
                    new_kwargs[name] = arg
                new_kwargs.update({k: init_kwargs.get(k, d) for k, d in parameters.items() if k not in ignore and k not in new_kwargs})
                getattr(self, "register_to_config")(**new_kwargs)
                init(self, *args, **init_kwargs)

            return inner_init


        class Model(ModelMixin, ConfigMixin):
            @register_to_config
            def __init__(self, in_channels=3, out_channels=8, sample_size=16, *, center=False):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)

            def forward(self, x):
                if self.config.center:
                    x = 2 * x - 1.0
                if hasattr(self, "skip_conv"):
                    return self.skip_conv(x), x
                return self.conv(x).reshape(x.shape[0], -1, self.config.sample_size, self.config.sample_size)


        m = Model(4, sample_size=12)
        params = list(inspect.signature(Model.__init__).parameters)
        kinds = [p.kind == inspect.Parameter.KEYWORD_ONLY for p in inspect.signature(Model.__init__).parameters.values()]
        defaults = [p.default is inspect.Parameter.empty for p in inspect.signature(Model.__init__).parameters.values()]
        config = dict(m.config)
        size = m.config.sample_size
        direct = m.sample_size
        y = m(torch.randn(2, 4, 12, 12))
    """, ["params", "kinds", "defaults", "config", "size", "direct", "y"])


def test_find_spec_follows_the_cpu_path(tmp_path):
    got, _real = _both(tmp_path, """
        import importlib.util

        npu = importlib.util.find_spec("torch_npu") is not None
        has_torch = importlib.util.find_spec("torch") is not None
        other = importlib.util.find_spec("some_package_nobody_has") is not None
    """, ["npu", "has_torch", "other"])
    # the path convlint follows: the framework installed, no accelerator plug-in, anything else unknown
    assert got["npu"] is False and got["has_torch"] is True and isinstance(got["other"], Unknown)


def test_the_module_attribute_list_is_the_installed_torch_s():
    from convlint.frameworks.torch.common import MODULE_ATTRIBUTES

    assert MODULE_ATTRIBUTES == set(dir(torch.nn.Module()))


def test_isinstance_against_array_types_follows_python(tmp_path):
    _agree(tmp_path, """
        import jax
        import jax.numpy as jnp
        import numpy as np
        import torch
        from torch import nn

        x = torch.randn(2)
        j = jnp.ones((2,))
        a = isinstance(x, torch.Tensor)
        b = isinstance(x, np.ndarray)
        c = isinstance(j, jnp.ndarray)
        d = isinstance(j, jax.Array)
        e = isinstance(j, torch.Tensor)
        f = isinstance(x, jax.Array)
        g = isinstance(3, torch.Tensor)
        h = isinstance(nn.Conv2d(1, 1, 1), torch.Tensor)
        i = isinstance(x, (int, torch.Tensor))
    """, ["a", "b", "c", "d", "e", "f", "g", "h", "i"])


def test_small_constant_tensors_keep_the_elements_python_reads(tmp_path):
    # timm's drop-path schedules: ``[x.item() for x in torch.linspace(0, rate, n)]`` decides
    # between DropPath and Identity; only elements torch computes exactly are known
    _agree(tmp_path, """
        import torch

        dpr = [x.item() for x in torch.linspace(0, 0.0, 4)]
        stages = [x.tolist() for x in torch.linspace(0, 0, 6).split([1, 2, 3])]
        first_last = torch.linspace(0, 0.3, 5)[0].item(), torch.linspace(0, 0.3, 5)[-1].item()
        ar = torch.arange(5).tolist()
        ar2 = torch.arange(2, 11, 3).tolist()
        sl = torch.arange(6)[1:4].tolist()
        one = torch.linspace(2, 2, 1).item()
        r = torch.arange(3)
        alias = r
        alias += 1
        after_aug = r.tolist()
        q = torch.arange(3)
        q[0] = 7
        after_set = q.tolist()
        w = torch.arange(3)
        w.mul_(2)
        after_inplace = w.tolist()
    """, ["dpr", "stages", "first_last", "ar", "ar2", "sl", "one"], may_know=("after_aug", "after_set", "after_inplace"))


@pytest.mark.parametrize("start,end,steps", [(0, 0.1, 3), (0.0, 0.2, 12), (-1, 1, 7), (0, 1e-3, 2), (0.5, 0.5, 9)])
def test_linspace_elements_convlint_knows_are_torch_s(tmp_path, start, end, steps):
    got, real = _both(tmp_path, f"""
        import torch

        xs = [x.item() for x in torch.linspace({start}, {end}, {steps})]
    """, ["xs"])
    xs = got["xs"]
    assert isinstance(xs, list) and len(xs) == len(real["xs"])
    known = [(i, v) for i, v in enumerate(xs) if not isinstance(v, Unknown)]
    assert known and all(v == real["xs"][i] for i, v in known), (xs, real["xs"])


def test_module_tree_walks_follow_torch(tmp_path):
    # MUNIT-style decoders size their MLP by walking ``self.modules()``
    _agree(tmp_path, """
        import torch
        from torch import nn


        class AdaIN(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.num_features = n
                self.weight = None
                self.register_buffer("running_mean", torch.zeros(n))


        class Block(nn.Sequential):
            def __init__(self, c):
                super().__init__(nn.Conv2d(c, c, 3, padding=1), AdaIN(c), nn.ReLU())
                self.extra = nn.Identity()


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                shared = nn.Conv2d(4, 4, 1)
                self.blocks = nn.ModuleList([Block(4), Block(4)])
                self.heads = nn.ModuleDict({"a": shared, "b": nn.Linear(4, 2)})
                self.again = shared
                self.plain = [nn.Conv2d(4, 4, 1)]  # a plain list is not registered
                self.scale = 2.0
                self.gamma = nn.Parameter(torch.Tensor(4).uniform_())
                n = sum(2 * m.num_features for m in self.modules() if m.__class__.__name__ == "AdaIN")
                self.mlp = nn.Linear(8, n)


        net = Net()
        kinds = [m.__class__.__name__ for m in net.modules()]
        names = [name for name, _ in net.named_modules()]
        child_names = [name for name, _ in net.named_children()]
        children = [type(m).__name__ for m in net.children()]
        block_kids = [name for name, _ in net.blocks[0].named_children()]
        mlp_out = net.mlp(torch.randn(1, 8))
        legacy = (torch.Tensor(3, 4), torch.Tensor([[1, 2, 3]]), torch.Tensor())
    """, ["kinds", "names", "child_names", "block_kids", "mlp_out", "legacy"], may_know=("children",))


def test_numpy_on_plain_numbers_gives_numpy_s_values(tmp_path):
    # encodec: ``hop_length = np.prod(ratios)`` sizes the quantizer
    _agree(tmp_path, """
        import math
        import numpy as np

        ratios = [8, 5, 4, 2]
        hop = np.prod(ratios)
        n_q = int(1000 * 6.0 // (math.ceil(24000 / hop) * 10))
        total = np.sum([1, 2.5])
        top = np.max((3, 9, 4))
        up = np.ceil(7 / 2)
        down = np.floor(-1.5)
        root = np.sqrt(16)
        i = np.int64(7.9)
        f = np.float64(0.1) == 0.1
        tau = 2 * np.pi
        empty = np.prod([])
        empty_is_float = isinstance(np.prod([]), float)
    """, ["hop", "n_q", "total", "top", "up", "down", "root", "i", "f", "tau", "empty", "empty_is_float"])


def test_config_dicts_answer_keys_as_attributes(tmp_path):
    _agree(tmp_path, """
        import ml_collections

        cfg = ml_collections.ConfigDict({"patches": {"size": (8, 8)}, "hidden": 32})
        size = cfg.patches.size
        hidden = cfg["hidden"]
        cfg.depth = 4
        depth = cfg.depth
        keys = sorted(cfg.keys())
        frozen = ml_collections.FrozenConfigDict({"a": 1}).a
    """, ["size", "hidden", "depth", "keys", "frozen"])


def test_flax_register_to_config_pattern_follows_flax(tmp_path):
    # diffusers' flax models: a class decorator replaces the dataclass __init__ with one that reads
    # dataclasses.fields(self) and records the config before calling the original
    pytest.importorskip("flax")
    _agree(tmp_path, """
        import dataclasses
        import functools
        from collections import OrderedDict

        import flax.linen as nn
        import jax
        import jax.numpy as jnp


        class FrozenDict(OrderedDict):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for key, value in self.items():
                    setattr(self, key, value)


        class ConfigMixin:
            def register_to_config(self, **kwargs):
                self._internal_dict = FrozenDict(kwargs)

            @property
            def config(self):
                return self._internal_dict


        def register(cls):
            original_init = cls.__init__

            @functools.wraps(original_init)
            def init(self, *args, **kwargs):
                defaults = {}
                for field in dataclasses.fields(self):
                    if field.name in ("name", "parent", "dtype"):
                        continue
                    if type(field.default) == dataclasses._MISSING_TYPE:
                        defaults[field.name] = None
                    else:
                        defaults[field.name] = getattr(self, field.name)
                new_kwargs = {**defaults, **kwargs}
                for i, arg in enumerate(args):
                    new_kwargs[dataclasses.fields(self)[i].name] = arg
                getattr(self, "register_to_config")(**new_kwargs)
                original_init(self, *args, **kwargs)

            cls.__init__ = init
            return cls


        @register
        class Net(nn.Module, ConfigMixin):
            features: int = 8
            shift: int = 1
            dtype: jnp.dtype = jnp.float32

            @nn.compact
            def __call__(self, x):
                return nn.Conv(self.features + self.config.shift, (3, 3))(x)


        net = Net(4, shift=2)
        names = [f.name for f in dataclasses.fields(net)]
        types = [type(3) == int, type("a") == int, type(None) == dataclasses._MISSING_TYPE, type(2.0) == float]
        features = net.features
        cfg = dict(net.config)
        out = net.apply(net.init(jax.random.PRNGKey(0), jnp.ones((1, 8, 8, 3))), jnp.ones((1, 8, 8, 3)))
    """, ["names", "types", "features", "cfg", "out"])


def test_argparse_options_are_their_defaults_and_required_ones_unknown(tmp_path, monkeypatch):
    # the DCGAN example sizes its networks from argparse defaults (--nz, --ngf)
    monkeypatch.setattr("sys.argv", ["snippet", "--dataset", "fake"])
    got, real = _both(tmp_path, """
        import argparse

        parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        parser.add_argument('--dataset', required=True)
        parser.add_argument('--nz', type=int, default=100)
        parser.add_argument('--imageSize', type=int, default='64')
        parser.add_argument('--lr', type=float, default=0.0002)
        parser.add_argument('--dry-run', action='store_true')
        parser.add_argument('--no-bias', dest='bias', action='store_false')
        group = parser.add_argument_group('model')
        group.add_argument('--ngf', type=int, default=64)
        parser.add_argument('--outf', default='.')
        parser.set_defaults(ngf=32)
        opt = parser.parse_args()
        nz, size, lr, dry, bias, ngf, outf = opt.nz, opt.imageSize, opt.lr, opt.dry_run, opt.bias, opt.ngf, opt.outf
        dataset = opt.dataset
        known, rest = parser.parse_known_args()
        nz2 = known.nz
    """, ["nz", "size", "lr", "dry", "bias", "ngf", "outf", "dataset", "nz2"])
    for name in ("nz", "size", "lr", "dry", "bias", "ngf", "outf", "nz2"):
        assert got[name] == real[name] and type(got[name]) is type(real[name]), name
    assert isinstance(got["dataset"], Unknown)  # the command line gives it


def test_shape_and_number_types_follow_python(tmp_path):
    # diffusers' RMSNorm: ``if isinstance(dim, numbers.Integral): dim = (dim,)``; ``torch.Size(dim)``
    _agree(tmp_path, """
        import numbers

        import torch

        def as_dims(dim):
            if isinstance(dim, numbers.Integral):
                dim = (dim,)
            return torch.Size(dim)

        a = tuple(as_dims(8))
        b = tuple(as_dims((2, 3)))
        c = isinstance(2.5, numbers.Real), isinstance(2.5, numbers.Integral), isinstance(True, numbers.Number)
        empty = tuple(torch.empty(tuple([2, 3])).shape)
    """, ["a", "b", "c", "empty"])


def test_a_default_is_not_what_unknown_keywords_pass(tmp_path):
    # ``cls(**config)`` with a config read from a file: a parameter's default (``None``) is not
    # the value the call passes — it stays unknown, never a guess
    got, real = _both(tmp_path, """
        import json

        def build(in_channels=None, out_channels=8, *, groups=None):
            return in_channels, out_channels, groups

        config = {"in_channels": 4, "groups": 2}
        known = build(**config)
        first, second, third = build(**json.loads("{}"))
    """, ["known", "first", "second", "third"])
    assert got["known"] == real["known"] == (4, 8, 2)
    assert all(isinstance(got[n], Unknown) for n in ("first", "second", "third"))


def test_one_line_compound_statements_run_their_body(tmp_path):
    # ``if mode == "a": return 1`` on one line (edm's weight_init): the body is a suite of small
    # statements on the header's line; it was skipped, and the function "raised"
    _agree(tmp_path, """
        def pick(mode):
            if mode == "a": return 1
            if mode == "b": return 2
            raise ValueError(mode)


        def total(n):
            out = 0
            for i in range(n): out += i
            while out > 10: out -= 10
            return out


        def guarded(x):
            try: y = x * 2
            except TypeError: y = None
            else: y = y + 1
            return y


        class Cfg:
            width = 3; depth = 4


        a = pick("a")
        b = pick("b")
        t = total(6)
        g = guarded(5)
        if t > 100: big = True
        else: big = False
        c = Cfg.width * Cfg.depth
    """, ["a", "b", "t", "g", "big", "c"])


def test_a_container_given_an_unknown_key_or_index_is_not_kept_as_it_was(tmp_path):
    # ``init_dict[key] = config[key]`` over keys convlint cannot see, then ``cls(**init_dict)``:
    # the dict is no longer the empty one it started as (a constructor's defaults are not what
    # the call passes), a list element at an unknown index may be the new value, and a list
    # extended by what convlint cannot list has an unknown length
    _agree(tmp_path, """
        import os

        keys = os.environ.get("CONVLINT_TEST_KEYS", "in_channels,width").split(",")
        init = {"depth": 2}
        for key in keys:
            init[key] = 3
        count = len(init)
        depth = init.get("depth", 0) if isinstance(init, dict) else 2
        values = [0, 0]
        values[len(os.environ.get("CONVLINT_TEST_INDEX", "x"))] = 5
        first = values[0]
        grown = [1]
        grown += list(keys)
        grown.extend(iter(keys))
        size = len(grown)
        todo = [1]
        visited = 0
        while len(todo) > 0:  # a worklist fed by what convlint cannot list: its length is unknown
            todo.pop(-1)
            visited += 1
            todo += list(keys) if visited < 3 else []
        """, must_know=[], may_know=("init", "count", "depth", "values", "first", "grown", "size", "visited"))
