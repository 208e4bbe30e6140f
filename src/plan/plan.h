/* plan.h — how work is spread over chips: TorchRec-style sharding of embedding tables, and the
 * search over the parallel plans of a transformer training step as an ask/tell enumerator. */
#ifndef SL_PLAN_H
#define SL_PLAN_H

#include "workload/workload.h"

/* plan/shard.c: TorchRec-style sharding of the tables over the chips. */
typedef struct sl_emb_shard {
  int table;
  sl_shard_kind kind;  /* TABLE, ROW, COLUMN, DATA, TABLE_ROW or GRID (one shard per column slice) */
  int chip;            /* TABLE/COLUMN: the chip that holds it; TABLE_ROW/GRID: the first chip of its
                          scale-up domain; ROW/DATA: -1, every chip */
  int span;            /* TABLE_ROW/GRID: the chips chip .. chip + span - 1 (its domain) hold it; else 0 */
  int host;            /* its rows live in host memory */
  double rows, dim;    /* of the part one chip holds */
  double lookup_share; /* of the table's lookups over the pass's samples: 1 (TABLE, COLUMN), 1/n (ROW; DATA:
                          its chip's samples), 1/span (TABLE_ROW, GRID) */
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
  double dom_rs_s_per_byte;               /* reduce-scatter of partial sums within one scale-up domain,
                                             per byte a chip holds (table-row-wise shards) */
  double ar_s_per_byte;                   /* all-reduce of a data-parallel table's gradient, per byte of it */
  double dp_max_bytes;                    /* a table is replicated only when it is at most this big */
  double state_row, state_value;          /* training: optimizer bytes per row and per value (row-wise
                                             Adagrad 4 and 0; SGD 0 and 0; Adam 0 and 8) */
  int grid;                               /* the software offers grid shards (stack grid_sharding) */
  int node_chips;                         /* chips per scale-up domain (chips c/node_chips share one;
                                             0 or 1: no domains): equally loaded chips are taken from
                                             the least loaded domain first; with more than one domain
                                             a table may be table-row-wise over one domain's chips */
} sl_shard_in;

/* Greedy planner: tables in decreasing cost, each placed where the most loaded chip ends up least
 * loaded, within memory.  A table that fits nowhere makes the plan infeasible (with the reason);
 * the planner never puts more than dev_budget (host_budget) on a chip.  Allocates in a. */
sl_status shard_plan(arena *a, const sl_shard_in *in, sl_shard_plan *out);
/* Bytes one row of a shard of `dim` values takes (with its optimizer state in training), and one
 * lookup moves (whole access units; the backward's read and write of row and state in training). */
double shard_bytes_per_row(const sl_shard_in *in, double dim);
double shard_lookup_bytes(const sl_shard_in *in, double dim);

/* ---- plan/search.c: the training plan search, ask/tell -----------------------------------------
 * The enumerator walks the plans of a scenario (tp, cp, ep, sp, micro-batch, recompute, TP overlap,
 * then pp, dp, vpp, ZeRO stage, DP overlap and the global batch when it is {max: N}) and yields
 * only those that pass the rules that need no costing: every degree divides what it splits, the
 * degrees multiply to the chip count, the micro-batches fill the global batch.  The caller costs
 * each plan and tells the outcome; the search keeps the best plan and the top N.
 *
 *   plan_search S;
 *   plan_search_init(&S, arena, &space, top_n, sizeof(my_eval), err);
 *   for (;;) {
 *     size_t n; int new_group;
 *     if (plan_search_ask(&S, buf, 64, &n, &new_group, err)) return error;
 *     if (n == 0) break;
 *     if (new_group) cost the layers once for buf[0];   // same for all plans of the group
 *     for each i: evaluate buf[i]; plan_search_tell(&S, &buf[i], &score, &my_eval);
 *   }
 *
 * A group is the plans that share (tp, cp, ep, sp, micro-batch, recompute, TP overlap): the graph
 * of a layer, and so its cost, depends on nothing else.  One ask never mixes two groups. */

/* The plan space: the chips, the model's dimensions, the stack's abilities, and the degrees the
 * scenario fixes (a value) or leaves to the search (SL_AUTO). */
typedef struct plan_space {
  const char *file; /* for errors */
  double chips, layers, heads, experts, seq_len;
  double global_batch;  /* fixed, or the maximum when global_batch_max */
  int global_batch_max; /* the plan picks the largest global batch up to global_batch */
  double micro_batch;   /* or SL_AUTO */
  sl_parallel par;      /* dp, tp, pp, cp, ep, vpp, zero: each a value or SL_AUTO; sp */
  sl_recompute recompute;
  int recompute_auto;   /* try none, selective and full */
  int parallel_auto;    /* also try sp and the overlaps off */
  int context_parallel; /* the stack's abilities */
  int sequence_parallel, overlap_tp, overlap_dp;
  int recompute_block; /* the stack implements block recompute (searched with recompute: auto) */
  double zero_max;     /* the highest ZeRO stage the stack implements */
  double max_plans;    /* a space with more is a mistake in the scenario: ask fails (5e7) */
} plan_space;

/* The plan space of a transformer training scenario. */
plan_space plan_space_of(const sl_scenario *sc);

/* What costing a plan told: whether it fits, its step time (plans are ranked by throughput,
 * global batch / step), and the memory of its most loaded chip (while no plan fits, the one that
 * comes closest is kept, to say why). */
typedef struct plan_score {
  int feasible;
  double step_s;
  double per_chip_bytes;
} plan_score;

enum { PLAN_LEVELS = 11 };

/* One search.  The caller reads what was told (enumerated and below); the rest is the enumerator's. */
typedef struct plan_search {
  plan_space sp;
  /* the enumeration: one level per searched degree, outermost first */
  int level, idx[PLAN_LEVELS], n[PLAN_LEVELS], nfix[PLAN_LEVELS];
  double tps[32], cps[16], eps[16], mbs[64], pps[512], vps[64];
  int npp, sp_lo, rc_lo, otp_lo, odp_lo;
  double zero_lo, rest; /* rest: pp x dp of the current (tp, cp) */
  sl_plan cur;          /* the plan the levels describe */
  long group, asked_group;
  int held; /* cur is enumerated but not yet handed out */
  /* what was told */
  double enumerated, evaluated;
  int have;     /* a feasible plan was told */
  sl_plan best; /* the fastest feasible plan; before one, the infeasible one closest to fitting */
  plan_score best_score;
  void *best_payload;
  size_t payload_size;
  sl_plan *top; /* the cap_top fastest feasible plans, fastest first (ties: first told first) */
  plan_score *top_score;
  unsigned char *top_payload; /* payload_size bytes each */
  size_t n_top, cap_top;
} plan_search;

/* Starts a search over *space keeping the top_n best plans (0: only the best).  payload_size:
 * bytes of the caller's evaluation that tell copies beside each kept plan.  Allocates in a (owned
 * by the caller, which must outlive the search). */
sl_status plan_search_init(plan_search *S, arena *a, const plan_space *space, size_t top_n,
                           size_t payload_size, sl_error *err);
/* Up to max next plans into out, all of one group; *n of them (0: the space is exhausted);
 * *new_group: out[0] starts a group.  Fails (SL_ERR_INPUT, naming the scenario's file and the key
 * `parallel`) when the space passes max_plans, after handing out the plans up to it. */
sl_status plan_search_ask(plan_search *S, sl_plan *out, size_t max, size_t *n, int *new_group, sl_error *err);
/* The outcome of a plan from ask; payload (payload_size bytes) is copied when the plan is kept. */
void plan_search_tell(plan_search *S, const sl_plan *p, const plan_score *score, const void *payload);
/* The payload told with the i-th of the top plans (i < S->n_top). */
const void *plan_search_top_payload(const plan_search *S, size_t i);
/* Throughput of a plan: sequences per second. */
double plan_rate(const sl_plan *p, const plan_score *score);

#endif /* SL_PLAN_H */
