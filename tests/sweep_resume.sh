#!/usr/bin/env bash
# sweep_resume.sh — a sweep killed with kill -9 in the middle resumes with every design point once
# and the same rows as a clean run with --jobs 3 (docs/sweep.md "Resume").  Full tier.
# Usage: tests/sweep_resume.sh PATH/TO/silica   Exit 77 (skipped) without the sqlite3 program.
set -u
SILICA=${1:?usage: tests/sweep_resume.sh PATH/TO/silica}
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: no sqlite3 program"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/sweep_common.sh"
"$SILICA" sweep "$TMP/big-sweep.yaml" --db "$TMP/killed.sqlite" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "sweep resumes after kill -9" "$SILICA" sweep "$TMP/big-sweep.yaml" --db "$TMP/killed.sqlite"
check "sweep clean run" "$SILICA" sweep "$TMP/big-sweep.yaml" --db "$TMP/clean.sqlite" --jobs 3
counts=$(sqlite3 "$TMP/killed.sqlite" 'SELECT count(*), count(DISTINCT idx), max(idx) FROM points')
if [[ $counts == "30000|30000|29999" ]]; then ok; else bad "resumed sweep has every point once: $counts"; fi
sqlite3 "$TMP/killed.sqlite" 'SELECT * FROM points ORDER BY idx' >"$TMP/killed.txt"
sqlite3 "$TMP/clean.sqlite" 'SELECT * FROM points ORDER BY idx' >"$TMP/clean.txt"
if cmp -s "$TMP/killed.txt" "$TMP/clean.txt"; then ok; else bad "resumed sweep differs from a clean one"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
