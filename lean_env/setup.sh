#!/usr/bin/env bash
# Install what the Lean backend needs (target of `make lean-setup`):
#   elan + the toolchain of miniF2F-lean4 (its lean-toolchain file),
#   the Lean REPL built with that same toolchain   -> $PROVER_LEAN_HOME/repl,
#   a Lake project pinned to miniF2F-lean4's Mathlib (lake-manifest.json), with the
#   Mathlib build cache downloaded (`lake exe cache get`) -> $PROVER_LEAN_HOME/project.
# Defaults: PROVER_LEAN_HOME=<repo>/../lean, data from $PROVER_DATA_DIR or <repo>/../shared/data.
#
# The REPL must be built by the same Lean as Mathlib's .olean files. The transcripts in
# lean-repl-transcripts were recorded at the commit named in its SOURCE file, whose
# toolchain is newer than miniF2F-lean4's; so by default the REPL is checked out at the
# tag named after miniF2F's toolchain (e.g. v4.24.0). REPL_REV=<rev> overrides it; a
# toolchain mismatch is refused. Every failure ends with one line: "lean-setup: ...".
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
DATA="${PROVER_DATA_DIR:-$REPO/../shared/data}"
LEAN_HOME="${PROVER_LEAN_HOME:-$REPO/../lean}"
PROJECT="${PROVER_LEAN_PROJECT:-$LEAN_HOME/project}"
MINIF2F="$DATA/minif2f-lean4"
TRANSCRIPTS="$DATA/lean-repl-transcripts"
STEP="start"

fail() { echo "lean-setup: $*" >&2; exit 1; }
trap 'echo "lean-setup: failed during: $STEP (see the output above)" >&2' ERR

STEP="reading the data"
[ -f "$MINIF2F/lean-toolchain" ] || fail "$MINIF2F/lean-toolchain not found (set PROVER_DATA_DIR)"
[ -f "$MINIF2F/lake-manifest.json" ] || fail "$MINIF2F/lake-manifest.json not found"
TOOLCHAIN="$(tr -d '[:space:]' < "$MINIF2F/lean-toolchain")"
VERSION="${TOOLCHAIN#*:}"
MATHLIB_REV="$(python3 -c 'import json,sys; print([p["rev"] for p in json.load(open(sys.argv[1]))["packages"] if p["name"]=="mathlib"][0])' "$MINIF2F/lake-manifest.json")"
SOURCE_REV="$(grep -oE '[0-9a-f]{40}' "$TRANSCRIPTS/SOURCE" 2>/dev/null | head -1 || true)"
REPL_REV="${REPL_REV:-$VERSION}"
echo "toolchain $TOOLCHAIN, mathlib $MATHLIB_REV, repl $REPL_REV (transcripts recorded at ${SOURCE_REV:-?})"

STEP="checking the network"
command -v git >/dev/null || fail "git is not installed"
command -v curl >/dev/null || fail "curl is not installed"
curl -sSfI --max-time 15 https://github.com >/dev/null 2>&1 \
  || fail "cannot reach github.com (no network): elan, the REPL and Mathlib cannot be downloaded here"

STEP="installing elan"
export ELAN_HOME="${ELAN_HOME:-$HOME/.elan}"
export PATH="$ELAN_HOME/bin:$PATH"
if ! command -v elan >/dev/null; then
  curl -sSfL https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -o /tmp/elan-init.sh
  sh /tmp/elan-init.sh -y --default-toolchain none --no-modify-path
fi
STEP="installing $TOOLCHAIN"
elan toolchain install "$TOOLCHAIN"

STEP="building the REPL at $REPL_REV"
mkdir -p "$LEAN_HOME"
[ -d "$LEAN_HOME/repl/.git" ] || git clone https://github.com/leanprover-community/repl "$LEAN_HOME/repl"
git -C "$LEAN_HOME/repl" fetch --tags origin
git -C "$LEAN_HOME/repl" checkout --quiet "$REPL_REV"
REPL_TOOLCHAIN="$(tr -d '[:space:]' < "$LEAN_HOME/repl/lean-toolchain")"
[ "$REPL_TOOLCHAIN" = "$TOOLCHAIN" ] \
  || fail "the REPL at $REPL_REV uses $REPL_TOOLCHAIN but Mathlib for miniF2F uses $TOOLCHAIN; choose REPL_REV with the same toolchain"
(cd "$LEAN_HOME/repl" && lake build)

STEP="creating the Mathlib project"
mkdir -p "$PROJECT"
cp "$MINIF2F/lean-toolchain" "$PROJECT/lean-toolchain"
cp "$MINIF2F/lake-manifest.json" "$PROJECT/lake-manifest.json"
sed -i 's/"name": "«miniF2F-lean4»"/"name": "prover_lean"/' "$PROJECT/lake-manifest.json"
cat > "$PROJECT/lakefile.toml" <<TOML
name = "prover_lean"

[[require]]
name = "mathlib"
git = "https://github.com/leanprover-community/mathlib4"
rev = "$MATHLIB_REV"
TOML
STEP="downloading Mathlib and its build cache"
(cd "$PROJECT" && lake exe cache get)

STEP="installing LeanDojo (prover trace --backend lean) into .venv"
if [ -x "$REPO/.venv/bin/pip" ]; then
  "$REPO/.venv/bin/pip" install -q -e "$REPO[lean]"
else
  echo "no $REPO/.venv yet: run make setup, then pip install -e '.[lean]' for LeanDojo tracing"
fi

STEP="smoke test"
printf 'import Mathlib\n\ntheorem smoke : (2 : ℕ) + 2 = 4 := by norm_num\n\n#print axioms smoke\n' > "$PROJECT/Smoke.lean"
(cd "$PROJECT" && lake env lean Smoke.lean)
echo "lean-setup: ok (PROVER_LEAN_HOME=$LEAN_HOME, project $PROJECT)"
