/* workload.h — models (transformer, DLRM, single ops), the scenario (what to run) and
 * the op graph: shapes, formats, forward/backward/optimizer, identical layers once. */
#ifndef SL_WORKLOAD_H
#define SL_WORKLOAD_H

#include "hw/hw.h"

/* ---- workload: model --------------------------------------------------------------------------- */
typedef enum sl_model_kind { SL_MODEL_TRANSFORMER, SL_MODEL_DLRM, SL_MODEL_OP } sl_model_kind;
typedef enum sl_op_type {
  SL_OPT_GEMM,
  SL_OPT_ATTENTION,
  SL_OPT_EMBEDDING_BAG,
  SL_OPT_GELU, /* element-wise and norm kernels over rows x cols values, GELU to ADD */
  SL_OPT_SILU,
  SL_OPT_SOFTMAX,
  SL_OPT_LAYERNORM,
  SL_OPT_RMSNORM,
  SL_OPT_ADD,
  SL_OPT_ALL_REDUCE, /* collectives from here on */
  SL_OPT_ALL_GATHER,
  SL_OPT_REDUCE_SCATTER,
  SL_OPT_ALL_TO_ALL,
  SL_OPT_SEND_RECV,
  SL_OPT_COUNT
} sl_op_type;
extern const char *const sl_op_type_names[SL_OPT_COUNT + 1];
/* Which passes of a single attention op run: the forward, the backward, or both in sequence. */
typedef enum sl_attn_pass {
  SL_PASS_FORWARD,
  SL_PASS_BACKWARD,
  SL_PASS_FORWARD_BACKWARD,
  SL_PASS_COUNT
} sl_attn_pass;
extern const char *const sl_attn_pass_names[SL_PASS_COUNT + 1];

typedef enum { SL_ACT_GELU, SL_ACT_SWIGLU } sl_activation;
typedef enum { SL_NORM_LAYERNORM, SL_NORM_RMSNORM } sl_norm;
typedef enum { SL_POS_LEARNED, SL_POS_ROPE } sl_position;

typedef struct sl_transformer {
  long hidden, layers, heads, kv_heads, head_dim, ffn, vocab;
  sl_activation activation;
  sl_norm norm;
  sl_position position;
  int tied_embeddings;
  int dropout; /* training keeps dropout masks (GPT-style) */
  int qk_norm; /* an RMSNorm over each head's query and key before attention (Qwen3, OLMo 2) */
  long experts, experts_per_token, shared_experts, moe_every;
  long max_context;
} sl_transformer;

typedef struct sl_op_spec {
  sl_op_type type;
  double m, n, k;                                   /* gemm */
  int quantized_inputs;      /* gemm: the operands arrive in the products' format (a GEMM benchmark
                                hands the kernel quantized operands): no cast kernel before it */
  double batch, seq_len, heads, kv_heads, head_dim; /* attention (batch also embedding_bag) */
  double kv_len; /* attention: keys per sequence (seq_len unless given: a decode step's
                    one query against its KV cache has seq_len 1) */
  int causal;
  int paged;                 /* attention: over a serving engine's paged KV cache */
  int kernel_given;          /* attention: `kernel` was given and overrides the stack's family */
  sl_attn_kernel kernel;     /* attention: the kernel family when kernel_given */
  sl_attn_pass pass;         /* attention: forward (default), backward or both */
  double rows, dim, pooling; /* embedding_bag (rows also the element-wise ops) */
  double cols;               /* element-wise and norm ops: values per row */
  double bytes;              /* collectives */
} sl_op_spec;
/* Bytes moved and vector FLOP of one element-wise or norm op (SL_OPT_GELU to SL_OPT_ADD) over rows x
 * cols values of ab bytes each, with per-column parameters of wb bytes (workload/graph.c). */
void op_stream_traffic(const sl_op_spec *o, double ab, double wb, double *bytes, double *flops);

/* A DLRM-style ranking model (Naumov et al. 2019; DCNv2 cross layers: Wang et al. 2021): dense
 * features through a bottom MLP, embedding bags of sparse features, an interaction, a top MLP.
 * Read and checked by model.c (docs/chip-spec.md "dlrm"); evaluated by sim/dlrm.c. */
typedef enum sl_interaction { SL_INTER_DOT, SL_INTER_DCNV2 } sl_interaction;
/* How a table is split over chips (TorchRec's sharding types); AUTO leaves it to the planner. */
typedef enum sl_shard_kind {
  SL_SHARD_AUTO,
  SL_SHARD_TABLE,
  SL_SHARD_ROW,
  SL_SHARD_COLUMN,
  SL_SHARD_DATA,
  SL_SHARD_TABLE_ROW, /* rows over the chips of one scale-up domain (TorchRec's table-row-wise) */
  SL_SHARD_GRID,      /* column slices on several domains, each table-row-wise (TorchRec's grid shard) */
  SL_SHARD_COUNT
} sl_shard_kind;
/* "auto", "table", "row", "column", "data", "table_row", "grid" */
extern const char *const sl_shard_names[SL_SHARD_COUNT + 1];

typedef struct sl_emb_table {
  const char *name;       /* optional; NULL = "t<index>" */
  double rows, dim;       /* whole numbers */
  double pooling;         /* lookups per sample (a mean; need not be whole) */
  double zipf;            /* access skew sigma of Zipf(sigma) over the rows; 0 = uniform */
  sl_shard_kind sharding; /* planner constraint */
  double uniform;         /* of the pooling lookups, those spread uniformly over the rows rather
                             than following the skew (synthetic multi-hot data); 0 = none */
} sl_emb_table;

typedef struct sl_dlrm {
  double dense_features;
  sl_emb_table *tables;
  size_t n_tables;
  double *bottom, *top; /* layer widths after the dense input / after the interaction */
  size_t n_bottom, n_top;
  sl_interaction inter;
  double cross_layers, low_rank; /* dcnv2 */
  double eval_every, eval_samples; /* training: a forward pass over eval_samples samples after every
                                      eval_every trained ones (0: no evaluation) */
  double eval_batch_scale;         /* its global batch over the training one (0: 1) */
} sl_dlrm;

typedef struct sl_model {
  const char *name;
  const char *file;
  sl_model_kind kind;
  sl_transformer tf;
  sl_op_spec op;
  sl_dlrm dlrm;
  double params_published; /* 0 = unknown */
} sl_model;

sl_status model_from_node(reader *r, yt_node *node, sl_model *out);
double model_params(const sl_model *m);                   /* all parameters */
int model_has_moe(const sl_model *m);                     /* a transformer with mixture-of-experts layers */
/* bytes of all the model's weights in their formats (precision.quantized, unquantized_layers) */
double model_weight_bytes(const sl_scenario *sc);
/* of the transformer's layers, those kept whole in the activations' format, dense and MoE */
void tf_unquantized_layers(const sl_scenario *sc, double *dense, double *moe);
double model_matmul_params(const sl_model *m);            /* parameters in matrix products (LM head in) */
double tf_layer_params(const sl_transformer *t, int moe); /* one layer, norms and biases in */
double tf_layer_matmul_params(const sl_transformer *t, int moe); /* one layer's matrix products */
double tf_embed_params(const sl_transformer *t);                 /* token (and learned position) embeddings */
double tf_head_params(const sl_transformer *t);                  /* final norm and an untied LM head */
/* K/V heads on one chip of a tp-way group: its share, each head replicated when there are fewer
 * than tp; and the K (or V) values it holds per token of a layer, those heads times head_dim. */
double tf_kv_heads(const sl_transformer *t, double tp);
double tf_kv_dim(const sl_transformer *t, double tp);
/* KV-cache bytes one token takes on one chip: K and V of `layers` layers at tf_kv_dim, in format kv. */
double tf_kv_bytes_per_token(const sl_transformer *t, double tp, double layers, sl_dtype kv);

/* ---- scenario ---------------------------------------------------------------------------------- */
typedef enum sl_task {
  SL_TASK_TRAIN,
  SL_TASK_PREFILL,
  SL_TASK_DECODE,
  SL_TASK_GENERATE,
  SL_TASK_SERVE,
  SL_TASK_INFER,
  SL_TASK_COUNT
} sl_task;
extern const char *const sl_task_names[SL_TASK_COUNT + 1];
/* BLOCK: full recompute of the fewest layers of each model chunk that let the stage fit (Megatron's
 * --recompute-granularity full --recompute-method block --recompute-num-layers N). */
typedef enum {
  SL_RECOMPUTE_NONE,
  SL_RECOMPUTE_SELECTIVE,
  SL_RECOMPUTE_FULL,
  SL_RECOMPUTE_BLOCK
} sl_recompute;
typedef enum { SL_OPTIM_ADAMW, SL_OPTIM_SGD, SL_OPTIM_ADAGRAD, SL_OPTIM_LAMB } sl_optimizer;
/* Bytes per parameter of mixed-precision training (Megatron's optimizer, Apex multi-tensor
 * kernels), beside the weights and the fp32 gradients.  Kept between steps: the fp32 master
 * weight and the optimizer's state (AdamW and LAMB m and v: 12; Adagrad's accumulator: 8; SGD: 4). */
double optim_state_bytes(sl_optimizer o);
/* Moved by one optimizer step, weights of wb bytes: the update, copying the master weights into
 * the training format, the gradient norm for clipping, zeroing the gradients and, with loss
 * scaling (fp16), unscaling them with the overflow check. */
double optim_step_bytes(sl_optimizer o, double wb, int loss_scaling);
/* FLOPs of one optimizer step a parameter (the update's arithmetic). */
double optim_step_flops(sl_optimizer o);

#define SL_AUTO (-1.0) /* a numeric field searched by the planner */

/* A length distribution of the serving workload: fixed, exponential with a mean, or uniform. */
typedef enum { SL_DIST_FIXED, SL_DIST_EXP, SL_DIST_UNIFORM } sl_dist_kind;
typedef struct sl_dist {
  sl_dist_kind kind;
  double a, b; /* fixed: a; exponential: mean a; uniform: [a, b] */
} sl_dist;

/* One pool of a disaggregated fleet (serve.disaggregated.prefill / .decode): its chip, how many,
 * and the plan of each of its engines (tp x pp chips; the pool runs chips / (tp pp) engines). */
typedef struct sl_serve_pool {
  const sl_chip *chip; /* NULL: the scenario's chip */
  double chips, tp, pp;
} sl_serve_pool;
enum { SL_POOL_PREFILL, SL_POOL_DECODE };
typedef enum { SL_KV_LINK_AUTO, SL_KV_LINK_SCALE_UP, SL_KV_LINK_SCALE_OUT } sl_kv_link;
/* serve.fleet: the chip types a mixed-fleet search may use and its bounds. */
#define SL_FLEET_MAX_TYPES 8
typedef struct sl_serve_fleet {
  int n_types;
  const sl_chip *types[SL_FLEET_MAX_TYPES];
  double max_chips; /* per pool */
  double top;       /* mixes printed */
  int colocated, disaggregated; /* which structures are searched */
} sl_serve_fleet;

typedef struct sl_serve_spec {
  double rate_per_s; /* SL_AUTO: find the highest rate that meets the SLO */
  double rate_met;   /* with SL_AUTO: a rate known to meet it (a fleet's offered rate), the search's
                        start; 0: none (the search doubles from one request/s per replica) */
  double requests;
  sl_dist prompt, gen;
  double slo_ttft_s, slo_tpot_s;
  double max_batch_tokens, kv_block_tokens, max_seqs;
  int limits_given; /* serve.scheduler gave max_batch_tokens (bit 0), max_seqs (bit 1) */
  int chunked_prefill;
  double seed;
  int router; /* how arrivals are spread over data-parallel replicas: sl_router */
  /* disaggregated prefill/decode pools and the mixed-fleet search (serve.disaggregated, serve.fleet) */
  int disaggregated;              /* 0: one colocated fleet (the scenario's chips and plan) */
  sl_serve_pool pool[2];          /* SL_POOL_PREFILL, SL_POOL_DECODE */
  int kv_link;                    /* sl_kv_link: the link the KV cache moves over */
  double kv_link_GBps;            /* > 0: per-chip bandwidth replacing the link's */
  double kv_link_latency_s;       /* >= 0: replacing the link's latency; < 0: the link's */
  sl_serve_fleet fleet;           /* serve.fleet: the search of `silica fleet` (n_types 0: none) */
  /* traffic and the latency-throughput curve (docs/serving.md "Traffic", "The latency-throughput curve") */
  int arrivals;             /* sl_arrivals: the process of the gaps between arrivals */
  double cv;                /* gamma: coefficient of variation of the gaps (1: Poisson) */
  double on_s, off_s;       /* on_off: lengths of the on and off periods */
  const struct sl_request *trace; /* serve.trace: the requests replayed (scenario's arena); NULL: none */
  size_t n_trace;
  double trace_speed;       /* the trace's arrival times are divided by it */
  const double *curve;      /* serve.arrival_rate_per_s as a list or range: the rates, in order */
  size_t n_curve;           /* 0: one rate (rate_per_s) */
  /* prefix caching and speculative decoding (docs/serving.md) */
  int prefix_caching;               /* a replica reuses the cached KV blocks of a shared prefix */
  double prefix_groups, prefix_tokens; /* synthetic shared prefixes (serve.prefix); 0 groups: none */
  double repeats; /* serve.repeats: the requests sent this many times over (requests is their total) */
  const sl_model *spec_draft;       /* speculative decoding's draft model (arena); NULL: none */
  double spec_tokens, spec_acceptance; /* k tokens proposed per step, acceptance rate alpha */
  int spec_line;                    /* the line of serve.speculative, for errors found at run time */
  /* what the throughput and the power are averaged over (docs/serving.md "Measurement window") */
  int window;      /* sl_window */
  int window_line; /* the line of serve.window */
} sl_serve_spec;
/* SL_WINDOW_RUN: from the first arrival to the last completion; SL_WINDOW_STEADY: from the moment
 * B = max_seqs x replicas requests have their first token to the moment requests - B - 1 have
 * finished (the ML.ENERGY benchmark's steady state) */
typedef enum { SL_WINDOW_RUN, SL_WINDOW_STEADY } sl_window;
typedef enum { SL_ARRIVALS_POISSON, SL_ARRIVALS_GAMMA, SL_ARRIVALS_ON_OFF } sl_arrivals;
typedef enum { SL_ROUTER_LEAST_TOKENS, SL_ROUTER_ROUND_ROBIN } sl_router;

typedef struct sl_parallel {
  double dp, tp, pp, cp, ep, vpp, zero; /* SL_AUTO = search */
  int sp;
  int schedule_gpipe;
} sl_parallel;

/* Failures of a fleet and the checkpoints that bound what they cost (the system's `reliability:`;
 * src/sim/campaign.c; docs/formats.md "Campaigns"). */
typedef struct sl_reliability {
  double chip_per_h, node_per_h, link_per_h; /* job-interrupting failures per hour of one chip, one
                                                node's host, one scale-out link */
  double write_GBps, read_GBps;              /* checkpoint bandwidth to and from storage, whole job */
  double node_write_GBps, node_read_GBps;    /* ... and per node that holds a shard of it */
  double restart_s;   /* from a failure to the job running again, before the checkpoint is read */
  double interval_s;  /* compute between checkpoints; 0: Young/Daly from the failure rate */
  double trials, seed; /* Monte Carlo of the failures (0 trials: closed form only) */
} sl_reliability;

/* One stage of a training campaign (train.stages): its tokens and what it runs them with; chips 0
 * and has_par 0 take the scenario's system and plan. */
typedef struct sl_train_stage {
  double tokens, seq_len, global_batch, micro_batch, chips, node_chips;
  sl_parallel par;
  int has_par;
  int line;
} sl_train_stage;

struct sl_scenario {
  arena a;
  const char *file;
  yt_node *chip_tree, *stack_tree, *model_tree; /* resolved specs, for the output */
  char input_sha256[65];                        /* of the scenario text and the overrides */
  sl_chip chip;
  sl_stack stack;
  sl_model model;
  sl_dtype w_dtype, a_dtype, kv_dtype; /* weights, activations, KV cache (stored and moved) */
  sl_dtype g_dtype;                    /* inputs of the matrix products (precision.gemm) */
  /* Which linear layers of a transformer take the weights' and products' formats (inference):
   * precision.quantized: ffn leaves the attention projections, the embedding and the LM head in the
   * activations' format; precision.unquantized_layers keeps that many first and last layers whole in
   * it (Meta's FP8 Llama 3.1 checkpoints: the FFN of every layer but the first and the last). */
  int quant_ffn;
  double unquant_first, unquant_last;
  sl_task task;
  /* system */
  double chips, node_chips;
  double host_memory_bytes; /* per chip, host DRAM that may hold embedding rows (0 = none) */
  sl_link scale_up, scale_out;
  int torus;               /* scale-up domain is a torus (TPU ICI) rather than a switch */
  const char *system_name; /* the system's `name` (a preset's), NULL for an unnamed inline system */
  /* train */
  double seq_len, global_batch, micro_batch; /* micro_batch may be SL_AUTO */
  int global_batch_max;                      /* global_batch is {max: N}: the plan picks it */
  sl_recompute recompute;
  int recompute_auto;
  sl_optimizer optimizer;
  /* infer */
  double batch, prompt_len, gen_len;
  int batch_max;
  /* what the requests ask of the sampler (`sampling`): temperature 0 is greedy; top_p < 1 or top_k > 0
   * filters the vocabulary before the draw */
  double temperature, top_p, top_k;
  sl_parallel par;
  int parallel_auto;
  int parallel_default; /* no `parallel` key: inference takes the smallest tp that fits */
  int precision_is_map;
  sl_serve_spec serve;
  struct sl_econ *econ; /* prices (data/econ/default.yaml, overridden by the `econ:` key) */
  /* the cross-validated residuals behind the result's interval (data/validation/residuals.yaml);
   * NULL when silica has none */
  struct sl_resid_table *resid;
  struct sl_resid_table *power_resid; /* board-power residuals (data/validation/power-residuals.yaml), or NULL */
  struct sl_resid_table
      *energy_resid; /* energy per token or sample (data/validation/energy-residuals.yaml), or NULL */
  /* The percentiles of the scenario's peers in each table (interval.c interval_prepare, at load), so
   * that a run takes its intervals without sorting: valid while the task, stack and chip are those
   * of `task`, `stack` and `chip` (a run whose scenario has changed them computes its own). */
  struct sl_iv_peers {
    int valid, found;
    sl_task task;
    const char *stack, *chip;
    double widen, q10, q90, peers, moe_peers;
    double chip_rows; /* the table's rows of the chip, whatever the tier */
  } iv_time, iv_power, iv_energy;
  /* campaign (train.tokens, train.stages, system.reliability, system.power_budget_w) */
  double train_tokens;      /* 0: no campaign */
  double loss_positions;    /* training: the fraction of positions the output head and the loss run
                               over (masked-LM pre-training predicts the masked ones only); 1 = all */
  sl_train_stage *stages;   /* n_stages of them (arena); none: one stage of train_tokens */
  size_t n_stages;
  sl_reliability rel;
  double power_budget_w;    /* > 0: chips sized to this facility power */
  double network_w_per_chip; /* scale-out network (NIC share, switches, optics) per chip */
};

/* ---- workload: op graph -------------------------------------------------------------------------
 * A flat list of ops, each with a repeat count: identical layers appear once with count = layers,
 * so a 126-layer model costs the same as a 1-layer one. */
typedef enum sl_phase {
  SL_PH_FORWARD,
  SL_PH_BACKWARD,
  SL_PH_OPTIMIZER,
  SL_PH_COMM,
  SL_PH_PREFILL,
  SL_PH_DECODE,
  SL_PH_COUNT
} sl_phase;
typedef enum sl_category {
  SL_CAT_GEMM,
  SL_CAT_ATTENTION,
  SL_CAT_ELEMENTWISE,
  SL_CAT_NORM,
  SL_CAT_EMBEDDING,
  SL_CAT_INTERACTION,
  SL_CAT_COLLECTIVE,
  SL_CAT_OPTIMIZER,
  SL_CAT_OTHER,
  SL_CAT_COUNT
} sl_category;
typedef enum sl_bound {
  SL_BOUND_COMPUTE,
  SL_BOUND_MEMORY,
  SL_BOUND_NETWORK,
  SL_BOUND_LATENCY,
  SL_BOUND_COUNT
} sl_bound;
extern const char *const sl_phase_names[SL_PH_COUNT];
extern const char *const sl_category_names[SL_CAT_COUNT];
extern const char *const sl_bound_names[SL_BOUND_COUNT];

typedef enum sl_coll {
  SL_COLL_ALL_REDUCE,
  SL_COLL_ALL_GATHER,
  SL_COLL_REDUCE_SCATTER,
  SL_COLL_ALL_TO_ALL,
  SL_COLL_SEND_RECV,
  SL_COLL_COUNT
} sl_coll;
extern const char *const sl_coll_names[SL_COLL_COUNT + 1];

typedef enum sl_kernel {
  SL_K_GEMM,       /* batch x (m x k) @ (k x n) */
  SL_K_ATTN_FUSED, /* flash-style attention forward (bwd flag for the backward) */
  SL_K_STREAM,     /* element-wise / norm / softmax / optimizer: bytes and vector FLOP */
  SL_K_GATHER,     /* embedding rows gathered at random */
  SL_K_COLL,       /* a collective over a group of chips */
} sl_kernel;

typedef struct sl_gemm_shape {
  double m, n, k, batch;
  sl_dtype dt;                      /* compute (input) format */
  double a_bytes, b_bytes, c_bytes; /* bytes per element of A, B, C */
} sl_gemm_shape;

typedef struct sl_attn_shape {
  double batch, q_len, kv_len, heads, kv_heads, head_dim;
  int causal, backward;
  sl_dtype dt;
  double kv_bytes;       /* bytes per K/V element */
  sl_attn_kernel family; /* the fused kernel family that runs it */
  int paged;             /* over a serving engine's paged KV cache (its new tokens written by the call) */
} sl_attn_shape;

typedef struct sl_op {
  const char *name; /* static string */
  sl_phase phase;
  sl_category cat;
  sl_kernel kernel;
  double count;       /* repeats of this op in one step */
  double model_flops; /* counted for MFU (per instance) */
  union {
    sl_gemm_shape g;
    sl_attn_shape at;
    struct {
      double bytes, flops; /* bytes moved, vector FLOP */
      sl_dtype dt;
      double row_bytes;    /* a row reduction (softmax, norms): bytes of one row it keeps on chip
                              between the reduction and the output pass; 0 = none */
      double reread_bytes; /* what it reads again when a row does not fit one block's SRAM */
    } s;
    struct {
      double lookups, row_bytes, table_bytes;
    } e;
    struct {
      sl_coll type;
      double bytes, n, k; /* size, ranks, ranks per scale-up domain */
    } c;
  } u;
  int overlap; /* communication the stack can hide: 0 none, SL_OV_COMPUTE behind the compute of its phase,
                  SL_OV_ATTENTION behind the attention kernels only (the ring of context parallelism) */
  int head;    /* the output head (final norm, LM head, sampling; the loss in training): its work goes
                  with the sequences that emit a token, not with every token of the step */
} sl_op;

enum { SL_OV_NONE = 0, SL_OV_COMPUTE = 1, SL_OV_ATTENTION = 2 };

typedef struct sl_graph {
  sl_op *ops;
  size_t n, cap;
} sl_graph;

/* ---- workload: graph builders ------------------------------------------------------------------ */
/* A parallel plan: degrees, micro-batch, recompute.  dp*tp*pp*cp = chips; ep divides dp*tp. */
typedef struct sl_plan {
  double dp, tp, pp, cp, ep, vpp, zero, mb;
  int sp;
  sl_recompute rc;
  double gb;                  /* global batch (sequences) of the step under this plan */
  int overlap_tp, overlap_dp; /* use the stack's overlap abilities (searched when it has them) */
} sl_plan;

/* How the ops of a graph will run, decided for a chip and a stack by cost's cost_lowering (the one
 * home of these decisions); the builders take it as given and never look at the chip. */
typedef struct sl_lowering {
  int fused_attn;             /* attention is one flash-style kernel (no score matrix in memory) */
  sl_attn_kernel attn_family; /* which family runs it: the op's `kernel`, else the stack's */
  int attn_unavailable;       /* the op asks for a family this chip cannot run (infeasible) */
  int fused_ew;               /* element-wise work is fused into the neighbouring kernels */
  sl_dtype compute_dt;        /* input format of the matrix products */
  int cast_inputs;            /* the products take narrower inputs than the activations: each linear layer
                                 casts its input (and, in the backward, its output gradient) with a kernel
                                 of its own, as Transformer Engine does for fp8 */
  int fused_ce;         /* training: the cross-entropy over the vocabulary is fused (one pass a phase) */
  int fused_add_norm;   /* inference: the residual add runs inside the RMSNorm after it (stack) */
  int gelu_epilogue;    /* GELU (and its backward) in the epilogue of the GEMM before it: the stack
                           has gelu_epilogue and the products are 2 bytes or wider */
  int fused_grad_accum; /* training: weight-gradient GEMMs accumulate into the fp32 gradient buffer
                           (else an add kernel per weight and micro-batch does) */
} sl_lowering;

/* Which part of a step to build.  ALL: the whole step of an inference task (layers with their
 * count).  The training parts are for one micro-batch on one chip of the plan: one dense layer,
 * one MoE layer, the first stage's extras (embedding), the last stage's (final norm, LM head,
 * loss); each forward, recompute and backward with its tensor/context/expert communication. */
typedef enum sl_part { SL_PART_ALL, SL_PART_LAYER, SL_PART_MOE_LAYER, SL_PART_FIRST, SL_PART_LAST } sl_part;

/* Builds the ops of `part` of a step of `sc` under plan `p` into g (allocated in a). */
sl_status graph_build_part(arena *a, const sl_scenario *sc, const sl_lowering *lw, const sl_plan *p,
                           sl_part part, sl_graph *g, sl_error *err);
/* The whole step with the scenario's own plan (parallel degrees, micro-batch, recompute). */
sl_status graph_build(arena *a, const sl_scenario *sc, const sl_lowering *lw, sl_graph *g, sl_error *err);
sl_plan plan_of_scenario(const sl_scenario *sc);
/* The attention ops of every layer (count = layers) for B sequences of q new tokens seeing kv
 * keys each, on one chip of plan p. */
sl_status graph_build_attention(arena *a, const sl_scenario *sc, const sl_lowering *lw, const sl_plan *p,
                                double B, double q, double kv, int causal, sl_graph *g);
/* Ranks of a group of size n per scale-up domain when `stride` ranks lie between its members. */
double group_per_node(double n, double stride, double node);
sl_op *graph_add(arena *a, sl_graph *g); /* zeroed op, or NULL when out of memory */
/* A new op with these fields; out of memory sets *oom and returns a scratch op (so that builders
 * can fill it without checking: the graph is discarded). */
sl_op *graph_op(arena *a, sl_graph *g, int *oom, const char *name, sl_phase ph, sl_category cat, sl_kernel k,
                double count);

/* ==== recommendation models (DLRM): workload/dlrm.c, cost/embedding.c, plan/shard.c, sim/dlrm.c ===== */

/* workload/dlrm.c: sizes and FLOP of a DLRM spec. */
double dlrm_bottom_out(const sl_dlrm *d);      /* width of the bottom MLP's output (0 without one) */
double dlrm_emb_width(const sl_dlrm *d);       /* sum of the tables' dims */
double dlrm_interaction_out(const sl_dlrm *d); /* width entering the top MLP */
double dlrm_emb_rows(const sl_dlrm *d);
double dlrm_emb_params(const sl_dlrm *d);       /* rows x dim over the tables */
double dlrm_dense_params(const sl_dlrm *d);     /* MLPs and cross layers, biases in */
double dlrm_flops_per_sample(const sl_dlrm *d); /* forward matrix products, 2 FLOP per MAC */
/* Useful embedding bytes per sample (equations.md "Embedding bags"): forward, pooling x dim x wb
 * read per table; training adds the backward's read and write of each looked-up row and the
 * row-wise Adagrad value (4 B) read and written.  Whole-access-unit rounding is the cost's. */
double dlrm_emb_bytes_per_sample(const sl_dlrm *d, double wb, int train);
/* Activation bytes per sample: kept for the backward (train) or live at once (inference). */
double dlrm_act_bytes_per_sample(const sl_dlrm *d, double ab, int train);
/* The dense part (bottom MLP, interaction, top MLP, loss; with train their backward) for B samples
 * on one chip, appended to g (allocated in a).  Returns SL_ERR_INTERNAL when out of memory. */
sl_status dlrm_graph_dense(arena *a, const sl_scenario *sc, const sl_lowering *lw, double B, int train,
                           sl_graph *g);
/* graph_build_part for a DLRM: the dense part and every table as a local gather on one chip. */
sl_status dlrm_graph_build(arena *a, const sl_scenario *sc, const sl_lowering *lw, double B, int train,
                           sl_graph *g, sl_error *err);

#endif /* SL_WORKLOAD_H */
