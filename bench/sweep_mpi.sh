#!/usr/bin/env bash
# sweep_mpi.sh — the sweep under MPI: `silica sweep` of single-chip Llama-3.1-8B prefill + decode
# design points (the grid of bench_sweep.c, finer in clock and tdp: 3240 x CLOCK_STEPS points,
# 518,400 by default: MPI is for large sweeps, and Open MPI's start costs ~0.25 s per run) end
# to end into SQLite, as one plain process, as `mpirun -n 1` (one rank) and as `mpirun -n RANKS`;
# prints one JSON line with the wall times and the speedups of RANKS ranks over one rank and over
# the plain process (target at 2 ranks: >= 1.8).  Needs a silica built with Open MPI.
# mpirun runs with its defaults (each rank bound to a core: rank 0's database writer thread shares
# rank 0's core).
# Usage: bench/sweep_mpi.sh [path/to/silica] [RANKS, default 2] [CLOCK_STEPS, default 160]
set -euo pipefail
SILICA=${1:-build/silica}
RANKS=${2:-2}
CLOCK_STEPS=${3:-160}
command -v mpirun >/dev/null || { echo "sweep_mpi.sh: mpirun not found (openmpi-bin)" >&2; exit 1; }
ldd "$SILICA" | grep libmpi >/dev/null || { echo "sweep_mpi.sh: $SILICA is built without MPI" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/bench.yaml" <<YAML
name: bench-mpi
chip: mtia-2i
parameters:
  cores: [32, 48, 64, 80, 96]
  macs_per_cycle: [512, 1024, 2048]
  clock_ghz: {min: 1.0, max: 1.6, steps: $CLOCK_STEPS}
  dram_GBps: [204.8, 409.6, 819.2]
  shared_sram_bytes: [67108864, 134217728, 268435456]
  process_nm: [7, 5, 4, 3]
  tdp_w: [85, 100, 120]
  dram_type: [lpddr5, lpddr5x]
workloads:
  - {name: prefill, weight: 0.5, scenario: {model: llama3.1-8b, task: prefill, infer: {batch: 1, prompt_len: 2048}}}
  - {name: decode, weight: 0.5, scenario: {model: llama3.1-8b, task: decode, infer: {batch: 8, prompt_len: 2048}}}
objectives: [perf_per_tco, throughput, perf_per_w]
strategy: grid
YAML
now() { date +%s.%N; }
t0=$(now)
"$SILICA" sweep "$TMP/bench.yaml" --db "$TMP/one.sqlite" >/dev/null
t1=$(now)
OMPI_MCA_btl=self,vader mpirun --allow-run-as-root --oversubscribe -n 1 \
  "$SILICA" sweep "$TMP/bench.yaml" --db "$TMP/rank1.sqlite" >/dev/null
t2=$(now)
OMPI_MCA_btl=self,vader mpirun --allow-run-as-root --oversubscribe -n "$RANKS" \
  "$SILICA" sweep "$TMP/bench.yaml" --db "$TMP/mpi.sqlite" >/dev/null
t3=$(now)
points=$(sqlite3 "$TMP/one.sqlite" 'SELECT count(*) FROM points')
same=$( [[ $(sqlite3 "$TMP/one.sqlite" 'SELECT * FROM points ORDER BY idx' | md5sum) == \
           $(sqlite3 "$TMP/mpi.sqlite" 'SELECT * FROM points ORDER BY idx' | md5sum) ]] && echo true || echo false)
awk -v p="$points" -v r="$RANKS" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v s="$same" 'BEGIN {
  one = b - a; r1 = c - b; mpi = d - c
  printf "{\"bench\":\"sweep_mpi\",\"points\":%d,\"ranks\":%d,\"one_process_s\":%.3f,\"one_rank_s\":%.3f,\"mpi_s\":%.3f,\"speedup\":%.2f,\"speedup_vs_process\":%.2f,\"same_rows\":%s}\n",
         p, r, one, r1, mpi, r1 / mpi, one / mpi, s }'
