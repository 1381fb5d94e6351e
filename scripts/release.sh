#!/usr/bin/env bash
# Tag a convlint release: check that the version is the same everywhere, then create the
# annotated tag vX.Y.Z on HEAD. It pushes nothing; it prints the push command. See docs/releasing.md.
#
#   scripts/release.sh [--check] [VERSION]
#
#   VERSION   the version to release (X.Y.Z, with or without a leading v); default: the version
#             in pyproject.toml. It must equal the version in pyproject.toml and in
#             convlint/__init__.py.
#   --check   only check, tag nothing: prints "tag: vX.Y.Z" and exits 0 when a release could be
#             tagged from this state (a clean work tree and a free tag name are not required).
#
# Checks: pyproject.toml [project] version == convlint/__init__.py __version__ (== VERSION), and
# every pin the README shows (`rev: v…` and `…/convlint@v…`) names that same tag. For a real
# release also: a clean work tree, HEAD on a branch or detached (any commit), no tag of that name yet.
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=0
want=""
for arg in "$@"; do
    case "$arg" in
        --check) check_only=1 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "release: unknown option $arg" >&2; exit 2 ;;
        *) want="${arg#v}" ;;
    esac
done

fail() { echo "release: $*" >&2; exit 1; }

# [project] version = "X.Y.Z" (the first `version =` line after the [project] header)
py_version=$(awk '
    /^\[/ { in_project = ($0 == "[project]") }
    in_project && /^version[[:space:]]*=/ { gsub(/^version[[:space:]]*=[[:space:]]*"|".*$/, ""); print; exit }
' pyproject.toml)
init_version=$(sed -n 's/^__version__[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' convlint/__init__.py)

[ -n "$py_version" ] || fail "no version in pyproject.toml [project]"
[ -n "$init_version" ] || fail "no __version__ in convlint/__init__.py"
[ "$py_version" = "$init_version" ] || fail "pyproject.toml says $py_version but convlint/__init__.py says $init_version"
[ -z "$want" ] || [ "$want" = "$py_version" ] || fail "asked to release $want, but the package version is $py_version (bump it in pyproject.toml and convlint/__init__.py first)"
echo "$py_version" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' || fail "version $py_version is not X.Y.Z"
tag="v$py_version"

# every pin shown in the README names this tag
bad=$(grep -nE 'rev:[[:space:]]*v[0-9]|convlint@v[0-9]' README.md | grep -v -E "(rev:[[:space:]]*|convlint@)$tag([^0-9.]|$)" || true)
[ -z "$bad" ] || fail "README.md pins another version than $tag:
$bad"
grep -qE "rev:[[:space:]]*$tag" README.md || fail "README.md has no 'rev: $tag' pre-commit snippet"

if [ "$check_only" = 1 ]; then
    echo "tag: $tag"
    exit 0
fi

git diff --quiet && git diff --cached --quiet || fail "the work tree has uncommitted changes: commit them first"
if git rev-parse -q --verify "refs/tags/$tag" >/dev/null; then
    fail "tag $tag exists already (at $(git rev-parse --short "$tag^{commit}")): bump the version for a new release"
fi
git tag -a "$tag" -m "convlint $py_version"
echo "tagged $tag at $(git rev-parse --short HEAD)"
echo "publish it with: git push origin $tag"
