"""Every install, hook and CI snippet in the README works as written, and names a tag that exists
once the release step (``scripts/release.sh``, docs/releasing.md) has run.

The tag itself cannot exist before a release, so the fast tests check consistency: every ``rev:``
and ``convlint@v…`` the README shows == ``"v" + convlint.__version__`` == the version in
pyproject.toml == the tag ``scripts/release.sh`` would create. The slow ones run the release step
in a clone of this checkout (HEAD, as CI sees it) and use its tag as a user would: ``pip install
"convlint @ git+file://…@vX.Y.Z"`` in a fresh virtual environment, and pre-commit with the README's
remote and ``repo: local`` snippets (the GitHub URL replaced by the clone). The ``language: system``
local hook installs nothing and runs in the fast set.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import convlint

try:
    import tomllib
except ImportError:  # Python 3.10: convlint depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

CHECKOUT = Path(__file__).resolve().parents[1]
README = (CHECKOUT / "README.md").read_text(encoding="utf-8")
RELEASE = CHECKOUT / "scripts" / "release.sh"
GITHUB = "https://github.com/convlint/convlint"
VERSION = convlint.__version__
TAG = f"v{VERSION}"

BAD = """\
from torch import nn


class AutoEncoder(nn.Module):  # convlint: input=(8, 1, 28, 28)
    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 16, 3, stride=2, padding=1)  # 28 -> 14
        self.up = nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1)  # 14 -> 27

    def forward(self, x):
        return self.up(self.down(x))
"""
GOOD = BAD.replace("padding=1)  # 14 -> 27", "padding=1, output_padding=1)  # 14 -> 28")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    e = {**os.environ, "NO_COLOR": "1", "PRE_COMMIT_COLOR": "never", "GIT_TERMINAL_PROMPT": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "FORCE_COLOR", "PRE_COMMIT_HOME", "CONVLINT_PROGRESS_DELAY"):
        e.pop(var, None)
    e.update(env or {})
    return subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def git(*args: str, cwd: Path) -> str:
    r = run(["git", "-c", "init.defaultBranch=main", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip()


def needs_git() -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")


def yaml_blocks(marker: str) -> list[str]:
    """The README's ```yaml blocks whose first line is ``marker``."""
    blocks = re.findall(r"```yaml\n(.*?)```", README, re.S)
    return [b for b in blocks if b.startswith(marker)]


def precommit_snippets() -> dict[str, str]:
    """The README's three .pre-commit-config.yaml snippets: remote, local system, local python."""
    out: dict[str, str] = {}
    for b in yaml_blocks("# .pre-commit-config.yaml"):
        if "repo: local" not in b:
            out["remote"] = b
        elif "language: system" in b:
            out["system"] = b
        elif "language: python" in b:
            out["python"] = b
    assert set(out) == {"remote", "system", "python"}, "the README shows a remote hook and two local variants"
    return out


# ----------------------------------------------------------------------------- consistency


def release_check(cwd: Path = CHECKOUT, *args: str) -> subprocess.CompletedProcess:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    return run([bash, str(cwd / "scripts" / "release.sh"), "--check", *args], cwd)


def test_versions_agree_and_are_what_the_release_step_would_tag() -> None:
    from importlib.metadata import version

    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == VERSION
    assert version("convlint") == VERSION, "the installed metadata (pip install -e .) says the same"
    r = release_check()
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"tag: {TAG}"


def test_every_pin_in_the_readme_names_the_release_tag() -> None:
    revs = re.findall(r"^\s*rev:\s*(\S+)", README, re.M)
    pins = re.findall(r"convlint(?:\[[a-z,]+\])? @ git\+https://github\.com/convlint/convlint@([^\s\"'`]+)", README)
    assert revs and pins
    assert set(revs) == {TAG}, revs
    assert set(pins) == {TAG}, pins
    assert f"convlint {VERSION}" in README, "the `convlint --version` line shows this version"


def test_readme_installs_nothing_from_a_package_index_that_does_not_serve_convlint() -> None:
    # `pip install convlint` / `pip install 'convlint[torch]'` would look on PyPI, which has no convlint
    code = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", README, re.S))
    commands = re.findall(r"pip install [^\n]*", code)
    assert len(commands) >= 4
    for cmd in commands:
        cmd = re.split(r"&&|;|\||\s#", cmd)[0]
        for a in shlex.split(cmd)[2:]:
            assert not re.fullmatch(r"convlint(\[[a-z,]+\])?", a), f"{cmd!r} installs convlint from a package index"


def test_install_hints_in_the_package_point_at_installs_that_work() -> None:
    # the messages of --confirm and solve --verify: no `pip install 'convlint[...]'` from an index
    hints = []
    for path in (CHECKOUT / "convlint").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "pip install" in line:
                hints.append((path.relative_to(CHECKOUT).as_posix(), line.strip()))
    assert hints, "the framework hints are found"
    for where, line in hints:
        assert not re.search(r"pip install '?convlint\[", line), f"{where}: {line}"
    extras = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [re.split(r"[<>=]", r)[0] for r in extras["torch"]] == ["torch"]
    assert [re.split(r"[<>=]", r)[0] for r in extras["jax"]] == ["jax", "flax"], "the hints say 'pip install jax flax'"


def test_release_script_refuses_versions_that_disagree(tmp_path: Path) -> None:
    needs_git()
    repo = tmp_path / "rel"
    for rel in ("pyproject.toml", "README.md", "convlint/__init__.py", "scripts/release.sh"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(CHECKOUT / rel, repo / rel)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "x", cwd=repo)
    assert release_check(repo).stdout.strip() == f"tag: {TAG}"
    bad = release_check(repo, "99.0.0")
    assert bad.returncode == 1 and "asked to release 99.0.0, but the package version is" in bad.stderr

    init = repo / "convlint" / "__init__.py"
    init.write_text(init.read_text().replace(f'"{VERSION}"', '"9.9.9"'))
    r = release_check(repo)
    assert r.returncode == 1 and f"pyproject.toml says {VERSION} but convlint/__init__.py says 9.9.9" in r.stderr
    git("checkout", "--", ".", cwd=repo)

    readme = repo / "README.md"
    readme.write_text(readme.read_text().replace(f"rev: {TAG}", "rev: v9.9.9", 1))
    r = release_check(repo)
    assert r.returncode == 1 and "README.md pins another version" in r.stderr and "v9.9.9" in r.stderr

    # a real release: refuses a dirty tree, tags once, refuses the same tag twice
    git("checkout", "--", ".", cwd=repo)
    readme.write_text(readme.read_text() + "\nan uncommitted line\n")
    r = run(["bash", "scripts/release.sh"], repo)
    assert r.returncode == 1 and "uncommitted changes" in r.stderr
    git("checkout", "--", ".", cwd=repo)
    r = run(["bash", "scripts/release.sh", VERSION], repo, env={"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    assert r.returncode == 0, r.stderr
    assert f"tagged {TAG}" in r.stdout and f"git push origin {TAG}" in r.stdout
    assert git("tag", "--list", cwd=repo) == TAG
    assert git("cat-file", "-t", TAG, cwd=repo) == "tag", "an annotated tag"
    r = run(["bash", "scripts/release.sh"], repo)
    assert r.returncode == 1 and f"tag {TAG} exists already" in r.stderr


def test_readme_precommit_snippets_are_valid_configs(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    for name, text in precommit_snippets().items():
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(text)
        r = run([sys.executable, "-m", "pre_commit", "validate-config", str(cfg)], tmp_path)
        assert r.returncode == 0, (name, r.stdout + r.stderr)


def test_readme_hooks_run_what_the_published_hook_runs() -> None:
    yaml = pytest.importorskip("yaml")
    manifest = {h["id"]: h for h in yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text())}
    snippets = precommit_snippets()
    remote = yaml.safe_load(snippets["remote"])["repos"][0]
    assert remote["repo"] == GITHUB and remote["rev"] == TAG
    assert {h["id"] for h in remote["hooks"]} <= set(manifest)
    for name in ("system", "python"):
        hook = yaml.safe_load(snippets[name])["repos"][0]["hooks"][0]
        for key in ("entry", "types", "require_serial"):
            assert hook[key] == manifest["convlint"][key], (name, key)


def _model_repo(tmp_path: Path, config: str) -> Path:
    repo = tmp_path / "models"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "model.py").write_text(BAD)
    (repo / ".pre-commit-config.yaml").write_text(config)
    git("add", "-A", cwd=repo)
    return repo


def _pre_commit_blocks_then_passes(repo: Path, env: dict[str, str]) -> None:
    r = run([sys.executable, "-m", "pre_commit", "run", "--all-files"], repo, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "model.py:8:19: CVL004" in r.stdout, r.stdout
    (repo / "model.py").write_text(GOOD)
    git("add", "-A", cwd=repo)
    r = run([sys.executable, "-m", "pre_commit", "run", "--all-files"], repo, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_local_system_hook_from_the_readme_runs_the_installed_convlint(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    needs_git()
    repo = _model_repo(tmp_path, precommit_snippets()["system"])
    # the README's premise: convlint is installed in the environment that runs `git commit`
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    _pre_commit_blocks_then_passes(repo, {"PATH": path, "PRE_COMMIT_HOME": str(tmp_path / "home")})


# ----------------------------------------------------------------------------- the tag, used


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this checkout's HEAD with the release tag made by scripts/release.sh."""
    needs_git()
    if run(["git", "rev-parse", "HEAD"], CHECKOUT).returncode != 0:
        pytest.skip("this checkout is not a git repository")
    clone = tmp_path_factory.mktemp("release") / "convlint"
    r = run(["git", "clone", "-q", str(CHECKOUT), str(clone)], CHECKOUT)
    assert r.returncode == 0, r.stderr
    r = run(["bash", "scripts/release.sh"], clone, env={"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
    assert r.returncode == 0, r.stdout + r.stderr
    return clone


def _readme_with_clone(text: str, clone: Path) -> str:
    # file://localhost/...: the pip that python3 -m venv bundles (23.x) rejects git+file:///... as a
    # direct reference (no host); newer pips take both. The README's https URL has a host.
    url = f"git+file://localhost{clone.as_posix()}@"
    return text.replace(f"git+{GITHUB}@", url).replace(f"repo: {GITHUB}", f"repo: {clone.as_posix()}")


@pytest.mark.slow
def test_pip_install_from_the_git_url_at_the_release_tag(released: Path, tmp_path: Path) -> None:
    # the README's install line, with the GitHub URL replaced by the clone
    line = re.search(r'^pip install "convlint @ git\+https://[^"]+"', README, re.M)
    assert line is not None
    requirement = _readme_with_clone(line.group(0), released)[len("pip install "):].strip('"')
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    r = run([str(bin_dir / "python"), "-m", "pip", "install", "-q", requirement], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run([str(bin_dir / "convlint"), "--version"], tmp_path)
    assert r.stdout.strip() == f"convlint {VERSION}"
    (tmp_path / "model.py").write_text(BAD)
    r = run([str(bin_dir / "convlint"), "check", "model.py", "--no-cache"], tmp_path)
    assert r.returncode == 1 and "CVL004" in r.stdout, r.stdout + r.stderr


@pytest.mark.slow
def test_remote_hook_from_the_readme_at_the_release_tag(released: Path, tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    repo = _model_repo(tmp_path, _readme_with_clone(precommit_snippets()["remote"], released))
    _pre_commit_blocks_then_passes(repo, {"PRE_COMMIT_HOME": str(tmp_path / "home")})


@pytest.mark.slow
def test_local_python_hook_from_the_readme_installs_the_git_url(released: Path, tmp_path: Path) -> None:
    pytest.importorskip("pre_commit")
    repo = _model_repo(tmp_path, _readme_with_clone(precommit_snippets()["python"], released))
    _pre_commit_blocks_then_passes(repo, {"PRE_COMMIT_HOME": str(tmp_path / "home")})
