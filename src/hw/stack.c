/* stack.c — software stack spec: fusion, launch cost, overlap abilities (FORMATS.md "Stacks"). */
#include "hw/hw.h"

#include <string.h>

sl_status stack_from_node(reader *r, yt_node *n, sl_stack *st) {
  static const char *const att[] = {"unfused", "fused", NULL};
  memset(st, 0, sizeof *st);
  sl_status s = rd_map(r, n);
  st->name = "inline";
  st->description = "";
  if (!s) s = rd_string(r, n, "name", 0, &st->name);
  if (!s) s = rd_string(r, n, "description", 0, &st->description);
  if (!s) s = rd_enum(r, n, "attention", 1, att, &st->attention_fused);
  if (!s) s = rd_bool(r, n, "fused_elementwise", 1, &st->fused_elementwise);
  if (!s) s = rd_double(r, n, "kernel_overhead_s", 1, 0, 1e-2, &st->kernel_overhead_s);
  st->efficiency = 1.0;
  const char *ign = NULL;
  if (!s) s = rd_double(r, n, "efficiency", 0, 0.05, 1.0, &st->efficiency);
  if (!s) s = rd_string(r, n, "efficiency_source", 0, &ign);
  if (!s) s = rd_bool(r, n, "graphs", 0, &st->graphs);
  if (!s) s = rd_bool(r, n, "overlap_tp_comm", 0, &st->overlap_tp_comm);
  if (!s) s = rd_bool(r, n, "overlap_dp_comm", 0, &st->overlap_dp_comm);
  st->sequence_parallel = st->context_parallel = 1;
  if (!s) s = rd_bool(r, n, "sequence_parallel", 0, &st->sequence_parallel);
  if (!s) s = rd_bool(r, n, "context_parallel", 0, &st->context_parallel);
  long zero = 0;
  if (!s) s = rd_int(r, n, "zero", 0, 0, 3, &zero);
  st->zero = (double)zero;
  if (!s) s = rd_string(r, n, "zero_source", 0, &ign);
  if (!s) s = rd_done(r, n);
  return s;
}
