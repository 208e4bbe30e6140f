#!/usr/bin/env bash
# sweep_mpi.sh — the same sweep over two MPI ranks gives the same rows as one process
# (docs/sweep.md "MPI").  Full tier.  Usage: tests/sweep_mpi.sh PATH/TO/silica
# Exit 77 (skipped) when mpirun, the sqlite3 program or an MPI-enabled silica is not here.
set -u
SILICA=${1:?usage: tests/sweep_mpi.sh PATH/TO/silica}
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: no sqlite3 program"; exit 77; }
command -v mpirun >/dev/null 2>&1 || { echo "skip: no mpirun (Open MPI not installed)"; exit 77; }
ldd "$SILICA" 2>/dev/null | grep -q libmpi || { echo "skip: silica was built without MPI"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/sweep_common.sh"
check "sweep in one process" "$SILICA" sweep "$TMP/big-sweep.yaml" --db "$TMP/one.sqlite"
if ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1 \
  mpirun --allow-run-as-root -n 2 "$SILICA" sweep "$TMP/big-sweep.yaml" --db "$TMP/mpi.sqlite" >"$TMP/out" 2>"$TMP/err"; then
  ok
  sqlite3 "$TMP/one.sqlite" 'SELECT * FROM points ORDER BY idx' >"$TMP/one.txt"
  sqlite3 "$TMP/mpi.sqlite" 'SELECT * FROM points ORDER BY idx' >"$TMP/mpi.txt"
  if cmp -s "$TMP/mpi.txt" "$TMP/one.txt"; then ok; else bad "sweep over 2 MPI ranks differs from one process"; fi
  if grep -q '^Pareto front' "$TMP/out"; then ok; else bad "MPI sweep prints the front"; fi
else
  bad "mpirun -n 2 silica sweep: exit $? ($(head -c 300 "$TMP/err"))"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
