#!/usr/bin/env bash
# For users without ../shared/data: download the third-party data at the pinned commits
# (data/sources.txt) into data/external/, where prover.paths looks when ../shared is absent.
# The Lean REPL repository's test transcripts live under test/ in that repository.
set -euo pipefail
cd "$(dirname "$0")"
if [ -d ../../shared/data ]; then echo "../shared/data exists: nothing to download"; exit 0; fi
mkdir -p external
grep -v '^#' sources.txt | while read -r name url commit; do
  [ -n "$name" ] || continue
  dest="external/$name"
  if [ -d "$dest/.git" ] && [ "$(git -C "$dest" rev-parse HEAD)" = "$commit" ]; then continue; fi
  rm -rf "$dest"; mkdir -p "$dest"
  git -C "$dest" init -q
  git -C "$dest" remote add origin "$url"
  if ! git -C "$dest" fetch -q --depth 1 origin "$commit"; then
    echo "error: cannot download $url at $commit (no network?)" >&2; exit 1
  fi
  git -C "$dest" checkout -q FETCH_HEAD
  echo "$name: $url @ $commit"
done
