/* names.c — the names of the workload's enums, as they appear in specs and outputs.  Each table
 * is checked against its enum's _COUNT, so that adding a member without its name fails to build. */
#include "workload/workload.h"

const char *const sl_task_names[] = {"train", "prefill", "decode", "generate", "serve", "infer", NULL};
_Static_assert(SL_ARRAY_LEN(sl_task_names) == SL_TASK_COUNT + 1, "a name for every sl_task");
const char *const sl_phase_names[] = {"forward",       "backward", "optimizer",
                                      "communication", "prefill",  "decode"};
_Static_assert(SL_ARRAY_LEN(sl_phase_names) == SL_PH_COUNT, "a name for every sl_phase");
const char *const sl_category_names[] = {"gemm",        "attention",  "elementwise", "norm", "embedding",
                                         "interaction", "collective", "optimizer",   "other"};
_Static_assert(SL_ARRAY_LEN(sl_category_names) == SL_CAT_COUNT, "a name for every sl_category");
const char *const sl_bound_names[] = {"compute", "memory", "network", "latency"};
_Static_assert(SL_ARRAY_LEN(sl_bound_names) == SL_BOUND_COUNT, "a name for every sl_bound");
const char *const sl_op_type_names[] = {
    "gemm",       "attention",      "embedding_bag", "gelu",      "silu",
    "softmax",    "layernorm",      "rmsnorm",       "add",       "all_reduce",
    "all_gather", "reduce_scatter", "all_to_all",    "send_recv", NULL};
_Static_assert(SL_ARRAY_LEN(sl_op_type_names) == SL_OPT_COUNT + 1, "a name for every sl_op_type");
const char *const sl_attn_pass_names[] = {"forward", "backward", "forward_backward", NULL};
_Static_assert(SL_ARRAY_LEN(sl_attn_pass_names) == SL_PASS_COUNT + 1, "a name for every sl_attn_pass");
