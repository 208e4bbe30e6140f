/* oplist.c — the op graph container: a flat array of ops grown in an arena, shared by every
 * front end (transformer, DLRM, single ops). */
#include "workload/workload.h"

#include <string.h>

sl_op *graph_add(arena *a, sl_graph *g) {
  if (g->n == g->cap) {
    size_t nc = g->cap ? g->cap * 2 : 64;
    sl_op *ops = ar_alloc(a, nc * sizeof *ops);
    if (!ops) return NULL;
    if (g->n) memcpy(ops, g->ops, g->n * sizeof *ops);
    g->ops = ops;
    g->cap = nc;
  }
  sl_op *op = &g->ops[g->n++];
  memset(op, 0, sizeof *op);
  return op;
}

sl_op *graph_op(arena *a, sl_graph *g, int *oom, const char *name, sl_phase ph, sl_category cat, sl_kernel k,
                double count) {
  static _Thread_local sl_op sink;
  sl_op *op = graph_add(a, g);
  if (!op) {
    *oom = 1;
    memset(&sink, 0, sizeof sink);
    return &sink;
  }
  op->name = name;
  op->phase = ph;
  op->cat = cat;
  op->kernel = k;
  op->count = count;
  return op;
}
