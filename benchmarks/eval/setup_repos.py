"""Clone the manifest's repositories at their pinned commits (outside the project).

    python benchmarks/eval/setup_repos.py [--repos /work/repos] [--mirror /work/.mirror]

Each repository must first be brought onto the machine as a bare git directory — with the
session's `fetch` tool ("github:<owner>/<name>", which leaves /work/.mirror/<owner>+<name>/repo),
or any other clone source given with --source-url (a format string with {owner} and {name}, e.g.
"https://github.com/{owner}/{name}.git" where the network allows it). This script then clones it
into <repos>/<checkout> and checks out the pinned commit. Mirrors may lack large blobs (data files,
images, notebooks): those paths are left out with a sparse checkout, so the work tree is complete
for every text file and `git diff --quiet` still works. Existing checkouts at the right commit are
left alone; one at another commit is reported, never reset.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_REPOS, head_commit, load_manifest  # noqa: E402


def git(*args, cwd=None, check=True, input=None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check, input=input)


def missing_paths(co: Path, commit: str) -> list[str]:
    tree = git("ls-tree", "-r", commit, cwd=co).stdout.splitlines()
    blobs = {}
    for line in tree:
        meta, path = line.split("\t", 1)
        _mode, kind, sha = meta.split()
        if kind == "blob":
            blobs.setdefault(sha, []).append(path)
    out = git("cat-file", "--batch-check", cwd=co, input="\n".join(blobs) + "\n", check=False).stdout
    missing = [ln.split()[0] for ln in out.splitlines() if ln.endswith(" missing")]
    return sorted(p for sha in missing for p in blobs[sha])


def setup(repo: dict, repos: Path, source: str) -> str:
    owner, name = repo["repo"].split("/", 1)
    co = repos / repo.get("checkout", name)
    commit = repo["commit"]
    if co.is_dir():
        head = head_commit(co)
        return "ok (present)" if head == commit else f"PRESENT AT {head}, manifest wants {commit}: left alone"
    url = source.format(owner=owner, name=name)
    r = git("clone", "-q", "--no-checkout", url, str(co), check=False)
    if r.returncode != 0:
        return f"CLONE FAILED: {r.stderr.strip()[-200:]} (fetch github:{owner}/{name} first)"
    gone = missing_paths(co, commit)
    if gone:
        git("sparse-checkout", "init", "--no-cone", cwd=co)
        (co / ".git" / "info" / "sparse-checkout").write_text("/*\n" + "".join(f"!/{p}\n" for p in gone))
    r = git("checkout", "-q", commit, cwd=co, check=False)
    if r.returncode != 0:
        return f"CHECKOUT FAILED: {r.stderr.strip()[-200:]}"
    return f"ok (cloned{'; %d large file(s) absent from the mirror left out' % len(gone) if gone else ''})"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repos", type=Path, default=DEFAULT_REPOS)
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--source-url", help="clone URL format with {owner} and {name} (default: the mirror)")
    args = ap.parse_args(argv)
    source = args.source_url or str(args.mirror / "{owner}+{name}" / "repo")
    repos, _ = load_manifest()
    args.repos.mkdir(parents=True, exist_ok=True)
    bad = 0
    for rid, repo in repos.items():
        status = setup(repo, args.repos, source)
        bad += not status.startswith("ok")
        print(f"{rid:16} {repo['repo']:40} {repo['commit'][:12]}  {status}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
