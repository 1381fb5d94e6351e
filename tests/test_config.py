"""Configuration: [tool.convlint], convlint.toml, selectors, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from convlint.config import Config, ConfigError, find_config_file, load_config


def pyproject(tmp_path: Path, body: str, sub: str = "") -> Path:
    d = tmp_path / sub if sub else tmp_path
    d.mkdir(parents=True, exist_ok=True)
    p = d / "pyproject.toml"
    p.write_text("[project]\nname = 'demo'\n\n[tool.convlint]\n" + body)
    return p


def load(tmp_path: Path, *paths: str, **kw) -> Config:
    return load_config(list(paths), cwd=tmp_path, **kw)


def error(tmp_path: Path, body: str, **kw) -> str:
    pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, **kw)
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_no_config_file_gives_defaults_rooted_at_cwd(tmp_path):
    cfg = load(tmp_path)
    assert cfg.path is None
    assert cfg.root == tmp_path
    assert cfg.is_selected("CVL001")
    assert not cfg.is_selected("CVL008"), "CVL008 is off by default"
    assert cfg.jobs == 1 and cfg.cache and cfg.max_file_size == 5 * 1024 * 1024
    assert cfg.cache_path == tmp_path / ".convlint_cache"


def test_nearest_pyproject_upward_from_first_path_is_used(tmp_path):
    pyproject(tmp_path, 'ignore = ["CVL004"]\n')
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "m.py").write_text("")
    cfg = load(tmp_path, "pkg/sub/m.py")
    assert cfg.path == tmp_path / "pyproject.toml"
    assert cfg.root == tmp_path
    assert not cfg.is_selected("CVL004")


def test_pyproject_without_convlint_table_is_skipped_on_the_way_up(tmp_path):
    pyproject(tmp_path, 'ignore = ["CVL005"]\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert find_config_file(tmp_path / "pkg") == tmp_path / "pyproject.toml"


def test_convlint_toml_uses_top_level_keys(tmp_path):
    (tmp_path / "convlint.toml").write_text('extend-select = ["CVL008"]\n')
    cfg = load(tmp_path)
    assert cfg.path == tmp_path / "convlint.toml"
    assert cfg.is_selected("CVL008")


def test_explicit_config_file_and_missing_one(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / ".convlint.toml").write_text('select = ["CVL001"]\n')
    cfg = load(tmp_path, config_file="conf/.convlint.toml")
    assert cfg.root == tmp_path / "conf"
    assert cfg.selected == {"CVL001"}
    with pytest.raises(ConfigError, match="--config: no such file: nope.toml"):
        load(tmp_path, config_file="nope.toml")


def test_prefix_and_all_selectors_and_specificity(tmp_path):
    pyproject(tmp_path, 'select = ["CVL00"]\nignore = ["CVL004"]\n')
    cfg = load(tmp_path)
    assert cfg.is_selected("CVL001") and cfg.is_selected("CVL008")
    assert not cfg.is_selected("CVL004")
    assert not cfg.is_selected("CVL010")  # CVL010 is not under CVL00
    cfg = load(tmp_path, select=["ALL"], ignore=["CVL0"])
    assert cfg.selected == frozenset()
    cfg = load(tmp_path, select=["CVL004"], ignore=["CVL"])
    assert cfg.selected == {"CVL004"}, "the more specific selector wins"


def test_command_line_select_replaces_and_extend_select_adds(tmp_path):
    pyproject(tmp_path, 'select = ["CVL001", "CVL002"]\n')
    assert load(tmp_path, select=["CVL003"]).selected == {"CVL003"}
    assert load(tmp_path, extend_select=["CVL003"]).selected == {"CVL001", "CVL002", "CVL003"}
    assert load(tmp_path, ignore=["CVL001"]).selected == {"CVL002"}
    assert load(tmp_path, select=["cvl001,CVL002"]).selected == {"CVL001", "CVL002"}


def test_snake_case_keys_are_accepted(tmp_path):
    pyproject(tmp_path, 'extend_select = ["CVL008"]\nmax_file_size = "1MB"\ncache_dir = "tmp/cache"\n')
    cfg = load(tmp_path)
    assert cfg.is_selected("CVL008")
    assert cfg.max_file_size == 1024 * 1024
    assert cfg.cache_path == tmp_path / "tmp" / "cache"


def test_per_file_ignores_by_name_and_by_relative_path(tmp_path):
    pyproject(tmp_path, '[tool.convlint.per-file-ignores]\n"test_*.py" = ["CVL004"]\n"legacy/**" = ["CVL00"]\n')
    cfg = load(tmp_path)
    assert not cfg.is_selected("CVL004", tmp_path / "tests" / "test_unet.py")
    assert cfg.is_selected("CVL005", tmp_path / "tests" / "test_unet.py")
    assert cfg.is_selected("CVL004", tmp_path / "models" / "unet.py")
    assert not cfg.is_selected("CVL001", tmp_path / "legacy" / "a" / "old.py")
    assert cfg.is_selected("CVL010", tmp_path / "legacy" / "old.py")


def test_model_entries_are_validated_and_exposed(tmp_path):
    pyproject(
        tmp_path,
        "\n[[tool.convlint.model]]\n"
        'target = "models/vae.py::VanillaVAE"\n'
        'input = [16, 3, 64, 64]\n'
        'output = [16, 3, 64, 64]\n'
        "init = { in_channels = 3, latent_dim = 128 }\n"
        "\n[[tool.convlint.model]]\n"
        'target = "models/ddpm.py::UNet"\n'
        'input = { x = ["B", 3, "H", "W"], t = ["B"] }\n',
    )
    m1, m2 = load(tmp_path).models
    assert m1.path == tmp_path / "models" / "vae.py" and m1.name == "VanillaVAE"
    assert m1.input == (16, 3, 64, 64) and m1.output == (16, 3, 64, 64)
    assert m1.init == {"in_channels": 3, "latent_dim": 128}
    assert m2.input == {"x": ("B", 3, "H", "W"), "t": ("B",)} and m2.output is None


@pytest.mark.parametrize(
    "body, expected",
    [
        ('selekt = ["CVL001"]\n', "tool.convlint.selekt: unknown key"),
        ('select = "CVL001"\n', "tool.convlint.select: expected a list of strings, got a string"),
        ('select = ["CVL999"]\n', "tool.convlint.select: unknown rule code or prefix 'CVL999'"),
        ('ignore = ["E501"]\n', "tool.convlint.ignore: unknown rule code or prefix 'E501'"),
        ("jobs = -1\n", "tool.convlint.jobs: expected a non-negative integer"),
        ('cache = "yes"\n', "tool.convlint.cache: expected true or false, got a string"),
        ('max-file-size = "huge"\n', "tool.convlint.max-file-size: expected a size"),
        ('[tool.convlint.per-file-ignores]\n"x.py" = "CVL001"\n', "expected a list of rule codes"),
        ('[[tool.convlint.model]]\ninput = [1]\n', "model[0].target: required"),
        ('[[tool.convlint.model]]\ntarget = "vae.py"\ninput = [1]\n', "model[0].target: expected \"path.py::Name\""),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\n', "model[0].input: required"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = [1, 2.5]\n', "model[0].input: a shape entry must be an int or a name, got 2.5"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = [1, true]\n', "a shape entry must be an int or a name, got True"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = { x = 3 }\n', "model[0].input.x: expected a shape"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = [1]\noutput = [-1]\n', "model[0].output: a shape entry must not be negative"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = [1]\ninit = [1]\n', "model[0].init: expected a table"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = [1]\nshape = [1]\n', "model[0]: unknown key 'shape'"),
        ('[[tool.convlint.model]]\ntarget = "vae.py::V"\ninput = ["3x"]\n', "a symbolic size must be an identifier"),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(tmp_path, body, expected):
    msg = error(tmp_path, body)
    assert str(tmp_path / "pyproject.toml") in msg
    assert expected in msg


def test_invalid_toml_is_a_config_error(tmp_path):
    msg = error(tmp_path, "select = [\n")
    assert "invalid TOML" in msg


def test_bad_command_line_code_names_the_option(tmp_path):
    with pytest.raises(ConfigError, match=r"--select: unknown rule code or prefix 'XYZ1'"):
        load(tmp_path, select=["XYZ1"])


def test_fingerprint_is_stable_and_changes_with_analysis_settings(tmp_path):
    pyproject(tmp_path, 'select = ["CVL001"]\n')
    a, b = load(tmp_path), load(tmp_path)
    assert a.fingerprint() == b.fingerprint()
    assert load(tmp_path, jobs=4).fingerprint() == a.fingerprint(), "parallelism does not change results"
    assert load(tmp_path, extend_select=["CVL002"]).fingerprint() != a.fingerprint()
