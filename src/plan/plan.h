/* plan.h — how work is spread over chips: TorchRec-style sharding of embedding tables. */
#ifndef SL_PLAN_H
#define SL_PLAN_H

#include "workload/workload.h"

/* plan/shard.c: TorchRec-style sharding of the tables over the chips. */
typedef struct sl_emb_shard {
  int table;
  sl_shard_kind kind;  /* TABLE, ROW, COLUMN or DATA */
  int chip;            /* TABLE/COLUMN: the chip that holds it; ROW/DATA: -1, every chip */
  int host;            /* its rows live in host memory */
  double rows, dim;    /* of the part one chip holds */
  double lookup_share; /* of the table's lookups over the pass's samples: 1 (TABLE, COLUMN), 1/n (ROW; DATA:
                          its chip's samples) */
} sl_emb_shard;

typedef struct sl_shard_plan {
  sl_emb_shard *shards;
  size_t n;
  double *dev_bytes, *host_bytes, *load_s; /* per chip: embedding bytes placed, estimated seconds per pass */
  int feasible;
  char reason[320];
} sl_shard_plan;

/* What the planner needs to know. */
typedef struct sl_shard_in {
  const sl_dlrm *d;
  int chips;
  double pass_samples; /* samples of one pass over all chips */
  int train;
  double wb, ab;                          /* bytes per embedding value, per pooled activation */
  double dev_budget, host_budget;         /* bytes per chip the shards may use (device, host) */
  double dev_s_per_byte, host_s_per_byte; /* random gathers: device DRAM, over links.host (0 = no host) */
  double comm_s_per_byte;                 /* pooled embeddings sent to other chips */
  double ar_s_per_byte;                   /* all-reduce of a data-parallel table's gradient, per byte of it */
  double dp_max_bytes;                    /* a table is replicated only when it is at most this big */
  double state_row, state_value;          /* training: optimizer bytes per row and per value (row-wise
                                             Adagrad 4 and 0; SGD 0 and 0; Adam 0 and 8) */
} sl_shard_in;

/* Greedy planner: tables in decreasing cost, each placed where the most loaded chip ends up least
 * loaded, within memory.  A table that fits nowhere makes the plan infeasible (with the reason);
 * the planner never puts more than dev_budget (host_budget) on a chip.  Allocates in a. */
sl_status shard_plan(arena *a, const sl_shard_in *in, sl_shard_plan *out);
/* Bytes one row of a shard of `dim` values takes (with its optimizer state in training), and one
 * lookup moves (whole access units; the backward's read and write of row and state in training). */
double shard_bytes_per_row(const sl_shard_in *in, double dim);
double shard_lookup_bytes(const sl_shard_in *in, double dim);

#endif /* SL_PLAN_H */
