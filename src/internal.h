/* internal.h — types shared inside libsilica: arena, YAML tree, chip/stack/model specs, op graph,
 * cost results.  Not installed; the public API is include/silica.h.
 * Prefixes map to folders: ar_/yt_/rd_ core+io, chip_/stack_ hw, model_/graph_ workload,
 * cost_ cost, sim_ sim. */
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include "silica.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- core: allocation ----------------------------------------------------------------------------
 * Every allocation of the library goes through these (the macros below), so that tests can make
 * the Nth one fail (fault injection, tests/test_faults.c) and check that every error path returns
 * an error and frees what it holds.  libyaml's own allocations are not covered. */
void *sl_malloc(size_t n);
void *sl_calloc(size_t n, size_t size);
void *sl_realloc(void *p, size_t n);
/* Test hook: the n-th allocation from now (1 = the next) and every later one fail until reset
 * with n <= 0.  Process-wide and not thread-safe: tests only. */
void sl_alloc_fail_after(long n);
long sl_alloc_count(void); /* allocations since the last sl_alloc_fail_after */
#ifndef SL_ALLOC_IMPL
#define malloc(n) sl_malloc(n)
#define calloc(n, s) sl_calloc(n, s)
#define realloc(p, n) sl_realloc(p, n)
#endif

/* ---- core: arena ------------------------------------------------------------------------------
 * A bump allocator made of chained blocks.  Everything a loaded object owns lives in its arena
 * and is freed at once; evaluation scratch uses ar_reset(). */
typedef struct ar_block ar_block;
typedef struct arena {
  ar_block *head;
  size_t used_total;
} arena;

void ar_init(arena *a);
void *ar_alloc(arena *a, size_t size); /* zeroed, 16-byte aligned; NULL when out of memory */
char *ar_strdup(arena *a, const char *s);
char *ar_strndup(arena *a, const char *s, size_t n);
void ar_reset(arena *a); /* keeps the first block for reuse */
void ar_free(arena *a);

/* ---- core: errors ----------------------------------------------------------------------------- */
sl_status err_set(sl_error *err, sl_status code, const char *file, int line, const char *key, const char *fmt,
                  ...) __attribute__((format(printf, 6, 7)));

/* ---- number formats --------------------------------------------------------------------------- */
typedef enum sl_dtype {
  SL_FP32,
  SL_TF32,
  SL_BF16,
  SL_FP16,
  SL_FP8,
  SL_INT8,
  SL_INT4,
  SL_FP4,
  SL_DTYPE_COUNT
} sl_dtype;

extern const char *const sl_dtype_names[SL_DTYPE_COUNT];
extern const double sl_dtype_bytes[SL_DTYPE_COUNT]; /* storage bytes per value (int4/fp4: 0.5) */
int dtype_from_name(const char *s);                 /* -1 when unknown */

/* ---- io: YAML tree ----------------------------------------------------------------------------
 * A parsed YAML (or JSON) document: maps keep their key order and line numbers; each map entry
 * has a `used` flag so that readers can report unknown keys.  Aliases are expanded (bounded). */
typedef enum yt_type { YT_SCALAR, YT_MAP, YT_SEQ } yt_type;

typedef struct yt_node yt_node;
typedef struct yt_pair {
  const char *key;
  int key_line;
  int used;
  yt_node *value;
} yt_pair;

struct yt_node {
  yt_type type;
  int line;        /* 1-based */
  int quoted;      /* scalar was quoted: never a number/bool */
  const char *str; /* scalar text */
  size_t n;
  yt_pair *pairs;   /* YT_MAP: n pairs */
  yt_node **items;  /* YT_SEQ: n items */
  const char *file; /* file the node came from (for errors) */
};

/* Parses YAML text into a tree allocated in `a`.  `file` names the source in errors. */
sl_status yt_parse(arena *a, const char *text, size_t len, const char *file, yt_node **out, sl_error *err);
/* Reads a whole file (bounded size) and parses it. */
sl_status yt_parse_file(arena *a, const char *path, yt_node **out, sl_error *err);
yt_pair *yt_find(yt_node *map, const char *key); /* NULL if absent or not a map */
yt_node *yt_get(yt_node *map, const char *key);  /* value, marks the entry used */
yt_node *yt_scalar_new(arena *a, const char *str, const char *file, int line);
yt_node *yt_map_new(arena *a, const char *file, int line);
/* Sets map[key] = value (replacing, or appending).  Returns 0 or -1 (out of memory). */
int yt_map_set(arena *a, yt_node *map, const char *key, yt_node *value);
yt_node *yt_clone(arena *a, const yt_node *n);

/* ---- io: typed readers over the tree ----------------------------------------------------------
 * A reader carries the error sink and the dotted key path; every helper reports
 * "file:line: path.key: message" with SL_ERR_INPUT. */
typedef struct reader {
  sl_error *err;
  arena *a;
  char path[128];
} reader;

typedef struct rd_mark {
  size_t len;
} rd_mark;
rd_mark rd_push(reader *r, const char *key); /* path += ".key" */
rd_mark rd_push_index(reader *r, size_t i);  /* path += "[i]" */
void rd_pop(reader *r, rd_mark m);
sl_status rd_fail(reader *r, const yt_node *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Each getter: `map` must be a map.  Missing and required -> error "missing key"; missing and
 * optional -> *out untouched, returns SL_OK.  Values outside [lo, hi] -> error. */
sl_status rd_map(reader *r, const yt_node *n); /* error unless a map */
sl_status rd_double(reader *r, yt_node *map, const char *key, int required, double lo, double hi,
                    double *out);
sl_status rd_int(reader *r, yt_node *map, const char *key, int required, long lo, long hi, long *out);
sl_status rd_bool(reader *r, yt_node *map, const char *key, int required, int *out);
sl_status rd_string(reader *r, yt_node *map, const char *key, int required, const char **out);
/* One of the NULL-terminated `names`; *out gets its index. */
sl_status rd_enum(reader *r, yt_node *map, const char *key, int required, const char *const *names, int *out);
/* Scalar conversion without a key: used for sequences. */
sl_status rd_scalar_double(reader *r, const yt_node *n, double lo, double hi, double *out);
/* Error on the first entry of `map` whose `used` flag is 0 ("unknown key"). */
sl_status rd_done(reader *r, const yt_node *map);
int yt_is_auto(const yt_node *n); /* scalar "auto" */

const char *preset_path(const char *kind, const char *name); /* "data/chips/x.yaml" or NULL */

/* A spec value: a preset name of `kind` ("chips", ...), a path (relative to the file of `node`), or
 * an inline map.  *out is the tree to read. */
sl_status spec_resolve(reader *r, const char *kind, yt_node *node, yt_node **out);
int spec_is_path(const char *s);

/* ---- hw: chip ---------------------------------------------------------------------------------- */
#define SL_MAX_MEM 6
#define SL_MAX_TILES 16

typedef struct sl_mem_level {
  const char *name;
  double capacity_bytes; /* per core when per_core, else for the chip */
  double bw_GBps;        /* per core when per_core, else aggregate */
  double latency_s;
  int per_core;
} sl_mem_level;

typedef struct sl_link {
  double bw_GBps;          /* per chip, per direction */
  double latency_s;        /* per message step (the alpha of alpha-beta) */
  double efficiency;       /* fraction of bw_GBps collectives reach on large messages */
  double oversubscription; /* >= 1: scale-out fabric oversubscription (1 = full bisection) */
} sl_link;

typedef struct sl_tile {
  int m, n, k;
} sl_tile;

/* ---- energy per action of one chip (issue 6; src/cost/energy.c, docs/energy-cost.md) ----------
 * Filled when a chip is loaded: derived from the process node (Horowitz 45 nm figures scaled by
 * the Accelergy/Stillmaker-Baas node factors), the engine shape, the memory levels and the die
 * area, unless the chip spec's optional `energy:` map gives a figure itself. */
typedef struct sl_energy_spec {
  double mac_j[SL_DTYPE_COUNT];      /* one multiply-accumulate of the matrix engine, by input format */
  double vec_flop_j[SL_DTYPE_COUNT]; /* one vector-engine FLOP, its register-file traffic included */
  double operand_bytes_per_mac[SL_DTYPE_COUNT]; /* operand-store traffic per MAC, from the engine shape */
  double operand_j_per_byte;   /* operand store (register file / operand buffer) <-> engine */
  double core_sram_j_per_byte; /* the per-core SRAM level (shared memory, PE local memory) */
  double shared_j_per_byte;    /* the shared on-chip level: array access plus the wires to the cores */
  double dram_j_per_byte;      /* off-chip DRAM: device and interface */
  double link_j_per_byte;      /* off-chip links (SerDes), per byte sent */
  double static_w;             /* static and idle power of the chip (leakage, clocks, DRAM refresh) */
  const char *source;          /* the spec's energy.source, "" when every figure is derived */
} sl_energy_spec;

typedef struct sl_chip {
  const char *name;
  const char *description;
  const char *file; /* where it came from */
  double clock_ghz;
  int cores;
  int mat_shape_m, mat_shape_n, mat_shape_k;  /* padding granularity of the matrix engine */
  double mat_macs_per_cycle[SL_DTYPE_COUNT];  /* per core, dense; 0 = not supported */
  double vec_flops_per_cycle[SL_DTYPE_COUNT]; /* per core; 0 = not supported */
  sl_mem_level mem[SL_MAX_MEM];               /* innermost first; the last is off-chip DRAM */
  int n_mem;
  sl_link scale_up, scale_out, host;
  double process_nm;
  double tdp_w;
  double area_mm2; /* published die area; 0 = not published */
  sl_tile tiles[SL_MAX_TILES];
  int n_tiles;
  int max_split_k;
  int stream_k;                    /* kernels split the K loop evenly over the cores (no waves) */
  double kernel_latency_s;         /* fill + drain of one kernel on the device */
  double eff_gemm[SL_DTYPE_COUNT]; /* sustained fraction of matrix peak on full tiles */
  double eff_dram;                 /* fraction of DRAM bandwidth reached by tiled kernels (GEMM) */
  double eff_stream;               /* fraction reached by element-wise / norm / softmax kernels */
  double eff_sram;                 /* same for on-chip shared SRAM */
  double eff_vector;               /* fraction of vector peak */
  double eff_random;               /* fraction of DRAM bandwidth random row gathers reach (whole access
                                      units counted); 0 = take eff_stream */
  const char *eff_gemm_source, *eff_dram_source, *eff_stream_source;
  int validated; /* kernel-level data behind the efficiency figures */
  const char *validation_note;
  sl_energy_spec energy; /* issue 6: per-action energies (derived, or the spec's `energy:` map) */
} sl_chip;

extern const double SL_LINK_EFF_UP, SL_LINK_EFF_OUT;
/* Reads {bw_GBps, latency_s, efficiency, oversubscription} into *out (fields absent keep their value). */
sl_status link_read(reader *r, yt_node *l, int required_bw, sl_link *out);
/* A map {fmt: value} of per-number-format figures in [lo, hi] at parent.key into out; given
 * (may be NULL) marks the formats the map names.  Unknown formats name file, line and key. */
sl_status read_fmt_map(reader *r, yt_node *parent, const char *key, int required, double lo, double hi,
                       double out[SL_DTYPE_COUNT], int given[SL_DTYPE_COUNT]);
/* Loads a chip from a preset name, a file path, or an inline node.  Allocates in `a`. */
sl_status chip_from_node(reader *r, yt_node *node, sl_chip *out);
sl_status chip_load(arena *a, const char *name_or_path, const char *base_file, sl_chip *out, sl_error *err);
double chip_peak_flops(const sl_chip *c, sl_dtype dt); /* matrix peak, FLOP/s, whole chip */
double chip_vec_flops(const sl_chip *c, sl_dtype dt);  /* vector peak, FLOP/s, whole chip */
const sl_mem_level *chip_dram(const sl_chip *c);
const sl_mem_level *chip_l2(const sl_chip *c);        /* last on-chip shared level or NULL */
const sl_mem_level *chip_core_sram(const sl_chip *c); /* innermost per-core level or NULL */
double chip_dram_bytes(const sl_chip *c);

/* ---- hw: stack --------------------------------------------------------------------------------- */
typedef struct sl_stack {
  const char *name;
  const char *description;
  int attention_fused;
  int fused_elementwise;
  double kernel_overhead_s; /* time each kernel launch adds to the timeline */
  double efficiency;        /* fraction of the device's kernel-level throughput the framework
                               sustains (synchronisation stalls, allocator, gaps); 1 = all */
  int graphs;
  int overlap_tp_comm, overlap_dp_comm;
  int sequence_parallel, context_parallel; /* parallelisms the software implements */
} sl_stack;

sl_status stack_from_node(reader *r, yt_node *node, sl_stack *out);

/* ---- workload: model --------------------------------------------------------------------------- */
typedef enum sl_model_kind { SL_MODEL_TRANSFORMER, SL_MODEL_DLRM, SL_MODEL_OP } sl_model_kind;
typedef enum sl_op_type {
  SL_OPT_GEMM,
  SL_OPT_ATTENTION,
  SL_OPT_EMBEDDING_BAG,
  SL_OPT_ALL_REDUCE,
  SL_OPT_ALL_GATHER,
  SL_OPT_REDUCE_SCATTER,
  SL_OPT_ALL_TO_ALL,
  SL_OPT_SEND_RECV,
  SL_OPT_COUNT
} sl_op_type;
extern const char *const sl_op_type_names[SL_OPT_COUNT + 1];

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
  long experts, experts_per_token, shared_experts, moe_every;
  long max_context;
} sl_transformer;

typedef struct sl_op_spec {
  sl_op_type type;
  double m, n, k;                                   /* gemm */
  double batch, seq_len, heads, kv_heads, head_dim; /* attention (batch also embedding_bag) */
  int causal;
  double rows, dim, pooling; /* embedding_bag */
  double bytes;              /* collectives */
} sl_op_spec;

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
  SL_SHARD_COUNT
} sl_shard_kind;
extern const char *const sl_shard_names[SL_SHARD_COUNT + 1]; /* "auto", "table", "row", "column", "data" */

typedef struct sl_emb_table {
  const char *name;       /* optional; NULL = "t<index>" */
  double rows, dim;       /* whole numbers */
  double pooling;         /* lookups per sample (a mean; need not be whole) */
  double zipf;            /* access skew sigma of Zipf(sigma) over the rows; 0 = uniform */
  sl_shard_kind sharding; /* planner constraint */
} sl_emb_table;

typedef struct sl_dlrm {
  double dense_features;
  sl_emb_table *tables;
  size_t n_tables;
  double *bottom, *top; /* layer widths after the dense input / after the interaction */
  size_t n_bottom, n_top;
  sl_interaction inter;
  double cross_layers, low_rank; /* dcnv2 */
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
double model_matmul_params(const sl_model *m);            /* parameters in matrix products (LM head in) */
double tf_layer_params(const sl_transformer *t, int moe); /* one layer, norms and biases in */
double tf_layer_matmul_params(const sl_transformer *t, int moe); /* one layer's matrix products */
double tf_embed_params(const sl_transformer *t);                 /* token (and learned position) embeddings */
double tf_head_params(const sl_transformer *t);                  /* final norm and an untied LM head */

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
typedef enum { SL_RECOMPUTE_NONE, SL_RECOMPUTE_SELECTIVE, SL_RECOMPUTE_FULL } sl_recompute;
typedef enum { SL_OPTIM_ADAMW, SL_OPTIM_SGD, SL_OPTIM_ADAGRAD } sl_optimizer;

#define SL_AUTO (-1.0) /* a numeric field searched by the planner */

/* A length distribution of the serving workload: fixed, exponential with a mean, or uniform. */
typedef enum { SL_DIST_FIXED, SL_DIST_EXP, SL_DIST_UNIFORM } sl_dist_kind;
typedef struct sl_dist {
  sl_dist_kind kind;
  double a, b; /* fixed: a; exponential: mean a; uniform: [a, b] */
} sl_dist;

typedef struct sl_serve_spec {
  double rate_per_s; /* SL_AUTO: find the highest rate that meets the SLO */
  double requests;
  sl_dist prompt, gen;
  double slo_ttft_s, slo_tpot_s;
  double max_batch_tokens, kv_block_tokens, max_seqs;
  int chunked_prefill;
  double seed;
} sl_serve_spec;

typedef struct sl_parallel {
  double dp, tp, pp, cp, ep, vpp, zero; /* SL_AUTO = search */
  int sp;
  int schedule_gpipe;
} sl_parallel;

struct sl_scenario {
  arena a;
  const char *file;
  yt_node *chip_tree, *stack_tree, *model_tree; /* resolved specs, for the output */
  char input_sha256[65];                        /* of the scenario text and the overrides */
  sl_chip chip;
  sl_stack stack;
  sl_model model;
  sl_dtype w_dtype, a_dtype, kv_dtype; /* weights, activations, KV cache */
  sl_task task;
  /* system */
  double chips, node_chips;
  double host_memory_bytes; /* per chip, host DRAM that may hold embedding rows (0 = none) */
  sl_link scale_up, scale_out;
  int torus; /* scale-up domain is a torus (TPU ICI) rather than a switch */
  /* train */
  double seq_len, global_batch, micro_batch; /* micro_batch may be SL_AUTO */
  int global_batch_max;                      /* global_batch is {max: N}: the plan picks it */
  sl_recompute recompute;
  int recompute_auto;
  sl_optimizer optimizer;
  /* infer */
  double batch, prompt_len, gen_len;
  int batch_max;
  sl_parallel par;
  int parallel_auto;
  int precision_is_map;
  sl_serve_spec serve;
  struct sl_econ *econ; /* issue 6: prices (data/econ/default.yaml, overridden by the `econ:` key) */
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
  double kv_bytes; /* bytes per K/V element */
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
    } s;
    struct {
      double lookups, row_bytes, table_bytes;
    } e;
    struct {
      sl_coll type;
      double bytes, n, k; /* size, ranks, ranks per scale-up domain */
    } c;
  } u;
  int overlap; /* communication the stack can hide behind compute (0/1) */
} sl_op;

typedef struct sl_graph {
  sl_op *ops;
  size_t n, cap;
} sl_graph;

/* ---- cost: one op on one chip ------------------------------------------------------------------ */
typedef struct sl_cost {
  double time_s;
  double flops;      /* hardware FLOP executed (padding included) */
  double dram_bytes; /* off-chip (or resident-level) traffic */
  double l2_bytes;   /* traffic between the shared level and the cores */
  sl_bound bound;
  /* gemm: the configuration chosen */
  sl_tile tile;
  int split_k;
  double waves, tiles;
  /* ---- energy (issue 6; filled by cost_op through energy_of_cost, src/cost/energy.c) ---- */
  double macs;       /* matrix-engine MACs executed (padding included) */
  double vec_flops;  /* vector-engine FLOP */
  double core_bytes; /* per-core SRAM traffic: operands written from the shared level, read by the engine */
  double link_bytes; /* bytes this chip sends over off-chip links */
  double e_core_j;   /* dynamic energy in the chip's clock/voltage domain (MACs, operands, SRAMs, wires) */
  double e_off_j;    /* dynamic energy outside it (DRAM devices and interfaces, link SerDes) */
} sl_cost;

/* ---- cost: network ------------------------------------------------------------------------------ */

typedef struct sl_net {
  double up_bw, up_lat;   /* scale-up: bytes/s per chip per direction (efficiency applied), s per step */
  double out_bw, out_lat; /* scale-out, oversubscription applied */
  double node;            /* chips per scale-up domain */
} sl_net;

void net_init(sl_net *net, const sl_link *up, const sl_link *out, double node_chips);
/* Time of one collective over n ranks, k per scale-up domain; S as defined in collective.c. */
sl_cost cost_collective(const sl_net *net, sl_coll type, double S, double n, double k);

/* Where operands stream from: normally the DRAM, or the on-chip shared SRAM when the whole
 * working set of the scenario is resident there. */
typedef struct sl_costctx {
  const sl_chip *chip;
  const sl_stack *stack;
  double mem_bw;    /* bytes/s, efficiency applied: tiled kernels */
  double stream_bw; /* bytes/s for element-wise kernels */
  double mem_latency_s;
  sl_net net;
  int resident; /* issue 6: operands stream from the shared on-chip SRAM, not DRAM (for energy) */
} sl_costctx;

void cost_ctx_init(sl_costctx *ctx, const sl_chip *chip, const sl_stack *stack, int resident_on_chip);
sl_cost cost_gemm(const sl_costctx *ctx, const sl_gemm_shape *g);
/* One configuration, no search (exposed for the reference test). */
sl_cost cost_gemm_config(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k);
/* Naive reference: walks every tile of every wave; tests compare it with cost_gemm_config. */
sl_cost cost_gemm_config_ref(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k);
sl_cost cost_attention(const sl_costctx *ctx, const sl_attn_shape *a);
sl_cost cost_stream(const sl_costctx *ctx, double bytes, double flops, sl_dtype dt);
sl_cost cost_gather(const sl_costctx *ctx, double lookups, double row_bytes);
sl_cost cost_op(const sl_costctx *ctx, const sl_op *op); /* dispatch, kernel overhead added */
/* Whether a flash-style kernel's working set fits the per-core SRAM. */
int attention_fits(const sl_chip *c, double head_dim, double bytes);

/* ---- workload: graph builders ------------------------------------------------------------------ */
/* A parallel plan: degrees, micro-batch, recompute.  dp*tp*pp*cp = chips; ep divides dp*tp. */
typedef struct sl_plan {
  double dp, tp, pp, cp, ep, vpp, zero, mb;
  int sp;
  sl_recompute rc;
  double gb;                  /* global batch (sequences) of the step under this plan */
  int overlap_tp, overlap_dp; /* use the stack's overlap abilities (searched when it has them) */
} sl_plan;

/* Which part of a step to build.  ALL: the whole step of an inference task (layers with their
 * count).  The training parts are for one micro-batch on one chip of the plan: one dense layer,
 * one MoE layer, the first stage's extras (embedding), the last stage's (final norm, LM head,
 * loss); each forward, recompute and backward with its tensor/context/expert communication. */
typedef enum sl_part { SL_PART_ALL, SL_PART_LAYER, SL_PART_MOE_LAYER, SL_PART_FIRST, SL_PART_LAST } sl_part;

/* Builds the ops of `part` of a step of `sc` under plan `p` into g (allocated in a). */
sl_status graph_build_part(arena *a, const sl_scenario *sc, const sl_plan *p, sl_part part, sl_graph *g,
                           sl_error *err);
/* The whole step with the scenario's own plan (parallel degrees, micro-batch, recompute). */
sl_status graph_build(arena *a, const sl_scenario *sc, sl_graph *g, sl_error *err);
sl_plan plan_of_scenario(const sl_scenario *sc);
/* The attention ops of every layer (count = layers) for B sequences of q new tokens seeing kv
 * keys each, on one chip of plan p. */
sl_status graph_build_attention(arena *a, const sl_scenario *sc, const sl_plan *p, double B, double q,
                                double kv, int causal, sl_graph *g);
/* Ranks of a group of size n per scale-up domain when `stride` ranks lie between its members. */
double group_per_node(double n, double stride, double node);
sl_op *graph_add(arena *a, sl_graph *g); /* zeroed op, or NULL when out of memory */
/* A new op with these fields; out of memory sets *oom and returns a scratch op (so that builders
 * can fill it without checking: the graph is discarded). */
sl_op *graph_op(arena *a, sl_graph *g, int *oom, const char *name, sl_phase ph, sl_category cat, sl_kernel k,
                double count);

/* ---- sim: results ------------------------------------------------------------------------------ */
typedef struct sl_row {
  const char *name;
  sl_phase phase;
  sl_category cat;
  sl_bound bound;
  double count;                          /* instances of the op in one step */
  double time_s, flops, bytes, energy_j; /* totals over the count; flops are useful (no padding) */
  double sram_hit_rate;                  /* < 0: not applicable */
} sl_row;

typedef struct sl_memory {
  double per_chip_bytes, capacity_bytes, weights_bytes, grads_bytes, optimizer_bytes, activations_bytes,
      kv_cache_bytes;
  int fits;
} sl_memory;

typedef struct sl_plan_row {
  sl_plan plan;
  double step_time_s, mfu, per_chip_bytes;
} sl_plan_row;

/* Energy, power and cost of a step (issue 6; FORMATS.md "energy" and "cost"; src/cost/energy.c,
 * src/econ/cost.c).  NaN marks a figure that does not apply (j_per_sample of an LLM). */
typedef struct sl_power_out {
  int has_energy, has_cost;
  double step_j;                    /* whole system, one step, static power included */
  double avg_power_w_per_chip;      /* step_j / (chips x step time) */
  double uncapped_power_w_per_chip; /* the most loaded chip at its full clock (above tdp_w when capped) */
  double clock_ratio;          /* clock the TDP allows / the spec's clock; 1 when the cap does not bind */
  double uncapped_step_time_s; /* the step at the full clock */
  double j_per_token, j_per_sample;
  double usd_per_hour_system, usd_per_million_tokens, usd_per_million_samples;
  double capex_usd_per_chip; /* one chip position: chip, memory, board, host and network shares */
} sl_power_out;

struct sl_result {
  arena a;
  double plans_enumerated, plans_evaluated; /* training: the plan search */
  sl_plan_row *top;                         /* the best plans, fastest first */
  size_t n_top;
  const sl_scenario *sc; /* not owned; for the "scenario" key (copied into json at run time) */
  char *scenario_json;   /* resolved scenario as JSON, owned (arena) */
  char input_sha256[65];
  int feasible;
  char reason[512];
  sl_task task;
  double chips;
  double step_time_s, tokens_per_s, samples_per_s, ttft_s, tpot_s, mfu, hfu, flops_per_chip_per_s;
  double model_flops, hw_flops; /* per step, whole system */
  int has_tokens, has_samples, has_ttft, has_mfu;
  sl_memory mem;
  sl_parallel par;
  double micro_batch, global_batch;
  sl_recompute recompute;
  sl_row *rows;
  size_t n_rows;
  int has_serve;
  struct {
    double ttft[3], tpot[3]; /* p50, p90, p99 */
    double throughput_tokens_per_s, goodput_requests_per_s, max_rate_per_s, rate_per_s;
    double requests, preemptions, steps, mean_batch_tokens, kv_blocks;
  } serve;
  sl_power_out power; /* issue 6: energy, power, cost */
};

/* Runs the scenario (internal form of sl_scenario_run); top_plans: how many best plans to keep. */
sl_status sim_run(const sl_scenario *sc, sl_result *res, sl_error *err);
sl_status sim_run_top(const sl_scenario *sc, sl_result *res, size_t top_plans, sl_error *err);
/* The largest inference batch (all replicas) that fits in memory; 0 when none does. */
double inference_max_batch(const sl_scenario *sc);
/* Serving: continuous batching of arriving requests (serve.c). */
sl_status serve_run(const sl_scenario *sc, sl_result *res, sl_error *err);
/* The step-cost surface of the serving simulation for one step: a prefill chunk of
 * prefill_tokens from position 0 and decode_seqs sequences with kv_mean tokens of context. */
sl_status serve_step_estimate(const sl_scenario *sc, double prefill_tokens, double decode_seqs,
                              double kv_mean, double *time_s, sl_error *err);

/* Training (any number of chips): plan search when keys are auto, then the step. */
sl_status train_run(const sl_scenario *sc, sl_result *res, size_t top_plans, sl_error *err);
double train_act_bytes_layer(const sl_scenario *sc, const sl_plan *p, int moe, int fused_attn);
double train_1f1b_reference(const double *f, const double *b, int p, int m);

/* ---- io: JSON writer ------------------------------------------------------------------------- */
typedef struct jbuf {
  char *s;
  size_t len, cap;
  int oom;
  int need_comma[64];
  int depth;
} jbuf;
void jb_init(jbuf *b);
void jb_free(jbuf *b);
void jb_raw(jbuf *b, const char *s);
void jb_obj_begin(jbuf *b, const char *key); /* key NULL inside arrays / at top */
void jb_obj_end(jbuf *b);
void jb_arr_begin(jbuf *b, const char *key);
void jb_arr_end(jbuf *b);
void jb_str(jbuf *b, const char *key, const char *v);
void jb_num(jbuf *b, const char *key, double v); /* NaN/inf written as null */
void jb_bool(jbuf *b, const char *key, int v);
void jb_null(jbuf *b, const char *key);
void jb_node(jbuf *b, const char *key, const yt_node *n); /* a YAML tree as JSON */

void sha256_hex(const void *data, size_t len, char out[65]);

/* ==== added for result.c / validate.c / the CLI (appended; keep this section last) ============== */

/* Writes `json`, an already formatted JSON value, as the next member (NULL or "" -> null). */
void jb_value_raw(jbuf *b, const char *key, const char *json);
/* A chip's matrix and vector peaks in TFLOP/s per format ("peak_tflops", "vector_peak_tflops"),
 * and its matrix ridge points in FLOP per DRAM byte per format under `key` (io/api_extra.c). */
void chip_json_peaks(jbuf *b, const sl_chip *c);
void chip_json_ridges(jbuf *b, const char *key, const sl_chip *c);
/* 1 when jb_node writes this plain scalar as something other than a string (number, bool, null). */
int jb_scalar_is_special(const char *s);
/* The text jb_num writes for v: shortest round-trip form, integers without exponent, "null". */
void jb_format_number(double v, char out[32]);

/* 1 when `key` is a numeric output key of FORMATS.md (also those this build does not compute yet). */
int result_key_known(const char *key);

/* ---- sim: validation cases (validate.c; FORMATS.md "Validation cases") ------------------------- */
/* An inline scenario (a YAML map) as text for sl_scenario_load, with relative spec paths (chip,
 * stack, model, system, econ) prefixed by dir (the folder of the file it came from, "" or ending
 * in '/').  NULL when out of memory; free() it. */
char *scenario_text(const yt_node *sc, const char *dir);
typedef enum sl_val_status {
  SL_VAL_OK,
  SL_VAL_FAIL,
  SL_VAL_UNSUPPORTED,
  SL_VAL_ERROR,
  SL_VAL_COUNT
} sl_val_status;
extern const char *const sl_val_status_names[SL_VAL_COUNT];

/* One (case, metric) check.  predicted and rel_error are NaN when the case did not run. */
typedef struct sl_val_entry {
  const char *name, *source, *metric, *file;
  int line;
  double measured, predicted, rel_error, tolerance;
  sl_val_status status;
  int calibration;     /* "gemm-best-*": data the chip efficiencies were fitted to, reported apart */
  const char *message; /* why, for unsupported and error; "" otherwise */
} sl_val_entry;

typedef struct sl_val_group {
  size_t n, ran, counts[SL_VAL_COUNT];
  double mape, max_abs_rel_error; /* over entries that ran (ok or fail); NaN when none ran */
} sl_val_group;

typedef struct sl_validation {
  arena a; /* entries and their strings */
  sl_val_entry *entries;
  size_t n, cap;
  size_t internal_errors; /* entries whose run hit SL_ERR_INTERNAL (a bug): the CLI exits 3 */
  sl_val_group valid, calib, all;
} sl_validation;

void val_init(sl_validation *v);
void val_free(sl_validation *v);
/* Checks the cases file at `path` and runs the cases whose name matches `filter` (POSIX extended
 * regex; NULL = all), appending one entry per (case, metric).  A malformed cases file or a bad
 * regex is SL_ERR_INPUT (nothing is appended); a bad scenario is an entry with status error. */
sl_status val_run_file(sl_validation *v, const char *path, const char *filter, sl_error *err);
void val_summarise(sl_validation *v); /* fills valid, calib and all from the entries */

/* A measured case loaded for calibration: its scenario (owned; sl_scenario_free) and the measured
 * step time. */
typedef struct sl_cal_case {
  const char *name;
  sl_scenario *sc;
  double measured_s;
} sl_cal_case;
/* Loads the cases of `path` that measure step_time_s; chip (a preset or path) replaces each
 * case's chip when not NULL. */
sl_status val_load_cases(const char *path, const char *chip, arena *a, sl_cal_case **out, size_t *n_out,
                         sl_error *err);

/* ---- calibration -------------------------------------------------------------------------------- */
typedef struct sl_cal_param {
  const char *key; /* chip-spec key path, e.g. efficiency.gemm.fp16 */
  double before, after, lo, hi;
  size_t n_cases; /* cases whose prediction it moves */
} sl_cal_param;

typedef struct sl_calibration {
  sl_cal_param params[16];
  size_t n_params;
  size_t n_train, n_test;
  double mape_train_before, mape_train_after, mape_test_before, mape_test_after;
  double mape_all_before, mape_all_after;
} sl_calibration;

/* Fits the chip's efficiency figures to the cases (training half: even positions; held out: odd).
 * cases[i].sc are modified (their chip figures set to the fit). */
sl_status calibrate_fit(sl_cal_case *cases, size_t n, sl_calibration *cal, sl_error *err);
/* The fitted figures as a chip-spec fragment (YAML) naming the data; malloc'd. */
char *calibrate_fragment(const sl_calibration *cal, const char *chip, const char *const *files,
                         size_t n_files);
/* {"cases": [...], "mape", "max_abs_rel_error", "calibration_mape", "counts": {...}}; malloc'd, NULL on OOM.
 */
char *val_json(const sl_validation *v);

/* ==== energy, power, area and cost of ownership (issue 6; docs/energy-cost.md) ====================== */

/* ---- cost: energy per action, power cap (src/cost/energy.c) ---- */
double energy_node_factor(double process_nm);             /* energy per action at the node / at 45 nm */
double energy_sram_pj_per_byte_45(double capacity_bytes); /* Horowitz SRAM access at 45 nm, by array size */
double energy_dram_pj_per_bit(const char *level_name);    /* by DRAM type (hbm*, lpddr*, gddr*, ddr*) */
/* Reads the chip spec's optional `energy:` map (marking it used) and fills c->energy, deriving every
 * figure the map does not give.  Called by chip_from_node once the other keys are read; code that
 * changes a loaded chip's node, memories, engine shape, area or TDP calls it again with
 * chip_node NULL to re-derive the table (the spec's overrides are then dropped). */
sl_status energy_spec_read(reader *r, yt_node *chip_node, sl_chip *c);
/* Fills cost->e_core_j and cost->e_off_j from the action counts of one op instance (dt: the
 * matrix/vector format of the op; resident: its "DRAM" bytes come from the shared SRAM). */
void energy_of_cost(const sl_chip *c, sl_dtype dt, int resident, sl_cost *cost);
/* Bytes one rank sends over the links in a collective of S bytes over n ranks (sizes as in
 * cost_collective): all-reduce 2(n-1)/n S, all-gather / reduce-scatter / all-to-all (n-1)/n S,
 * send/recv S. */
double coll_link_bytes(sl_coll type, double S, double n);
/* The TDP cap on one chip's work: dynamic energy on the clock domain (e_core_j) and off it
 * (e_off_j), time that scales with the clock (t_clock_s: compute-bound) and time that does not
 * (t_other_s: memory, network, latency, idle).  The chip runs at the clock ratio r <= 1 at which
 * static + dynamic power equals tdp_w, with energy per on-chip action scaling as r^2 (voltage
 * tracking the clock, floored at SL_VMIN of the nominal). */
typedef struct sl_capped {
  double clock_ratio; /* r */
  double time_s;      /* t_clock_s / r + t_other_s (or longer when even the lowest clock is over TDP) */
  double dyn_j;       /* dynamic energy at r */
  double power_w;     /* static + dyn_j / time_s */
  double uncapped_w;  /* the same at r = 1 */
} sl_capped;
sl_capped power_cap(const sl_chip *c, double e_core_j, double e_off_j, double t_clock_s, double t_other_s);
double power_energy_scale(double clock_ratio); /* energy per on-chip action at clock ratio r / at r = 1 */

/* ---- econ: die area (src/econ/area.c) ---- */
typedef struct sl_area {
  double matrix_mm2, vector_mm2, control_mm2, core_sram_mm2, shared_sram_mm2, noc_mm2;
  double dram_io_mm2, link_io_mm2, other_mm2, total_mm2;
} sl_area;
void area_estimate(const sl_chip *c, sl_area *out);
double chip_area_mm2(const sl_chip *c); /* the published die area, else the estimate */

/* ---- econ: prices and cost of ownership (src/econ/cost.c) ---- */
#define SL_ECON_MAX 16
typedef struct sl_econ_map { /* numeric or named keys -> value; `default` for names not listed */
  int n;
  const char *name[SL_ECON_MAX];
  double key[SL_ECON_MAX], val[SL_ECON_MAX];
  double dflt; /* NaN: no default */
} sl_econ_map;

typedef struct sl_econ {
  sl_econ_map wafer_usd;              /* per 300 mm wafer, by node (nm) */
  sl_econ_map defect_density_per_mm2; /* by node (nm) */
  double wafer_diameter_mm, yield_alpha, reticle_mm2;
  sl_econ_map package_usd;       /* by memory attach: hbm (2.5D interposer), other */
  sl_econ_map memory_usd_per_GB; /* by DRAM type: hbm, lpddr, gddr, ddr */
  double board_usd, board_usd_per_w;
  double server_usd, server_power_w; /* the host of one server, accelerators excluded */
  sl_econ_map chips_per_server;      /* by chip name */
  double scale_up_usd_per_GBps, scale_out_usd_per_GBps;
  double facility_usd_per_w, facility_life_years;
  double service_life_years, electricity_usd_per_kwh, pue;
  sl_econ_map chip_price_usd; /* by chip name: a purchase price replacing the cost estimate */
} sl_econ;

/* The default prices (data/econ/default.yaml) with `over` applied: a preset name, a path or an
 * inline map of any subset of the keys.  over NULL: the defaults.  Strings live in r->a. */
sl_status econ_load(reader *r, yt_node *over, sl_econ *out);
double econ_lookup_node(const sl_econ_map *m, double nm); /* log-log between listed nodes, clamped */
double econ_lookup_name(const sl_econ_map *m, const char *name);
double econ_dies_per_wafer(double area_mm2, double wafer_diameter_mm); /* pi r^2/A - pi d/sqrt(2A) */
double econ_yield(double area_mm2, double d0_per_mm2, double alpha);   /* (1 + A D0/alpha)^-alpha */

typedef struct sl_chip_cost {
  double area_mm2, dies, dies_per_wafer, yield, die_usd; /* dies: per package (reticle-limited) */
  double package_usd, memory_usd, board_usd, chip_usd;   /* chip_usd: the module, or its purchase price */
  double host_usd, network_usd, position_usd;            /* position_usd: everything one chip slot costs */
  double host_w;                                         /* the chip's share of the host's power */
  double provisioned_w;                                  /* TDP + its share of the host's power */
  int bought;                                            /* chip_price_usd gave the price */
} sl_chip_cost;
void econ_chip_cost(const sl_econ *e, const sl_chip *c, double scale_up_GBps, double scale_out_GBps,
                    sl_chip_cost *out);
/* Cost per hour of the system running at avg_power_w_per_chip (FORMATS.md cost.usd_per_hour_system). */
double econ_usd_per_hour(const sl_econ *e, const sl_chip_cost *cc, double chips, double avg_power_w_per_chip);
/* Fills res->power's cost fields from its energy fields and throughput. */
void econ_fill_result(const sl_scenario *sc, sl_result *res);
void econ_json(jbuf *b, const char *key, const sl_econ *e);

/* ---- sim: energy of a step (src/sim/power.c) ---- */
/* Sums of one chip's ops: dynamic energy on and off the clock domain and the time that scales
 * with the clock. */
typedef struct sl_esum {
  double e_core, e_off, t_clock, t_total;
} sl_esum;
void esum_add(sl_esum *s, const sl_cost *c, double count, double time_s);
/* Fills res->power (energy, power, the cap) for a step of res->step_time_s (at full clock) whose
 * most loaded chip did `busy`, with system-wide dynamic energy sys_e_core + sys_e_off (at full
 * clock), over res->chips chips.  Sets res->step_time_s to the capped step, slows the compute-bound
 * rows and gives every row its energy (row_*_j[i]: the row's dynamic energy at full clock; NULL:
 * none).  tokens, samples: per step (0 when not applicable). */
void power_fill_result(const sl_chip *c, const sl_esum *busy, double sys_e_core, double sys_e_off,
                       double tokens, double samples, const double *row_core_j, const double *row_off_j,
                       sl_result *res);

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
sl_status dlrm_graph_dense(arena *a, const sl_scenario *sc, double B, int train, sl_graph *g);
/* graph_build_part for a DLRM: the dense part and every table as a local gather on one chip. */
sl_status dlrm_graph_build(arena *a, const sl_scenario *sc, double B, int train, sl_graph *g, sl_error *err);

/* cost/embedding.c: embedding bags.  Rows move in whole DRAM access units (64 B, equations.md). */
#define SL_DRAM_ACCESS_BYTES 64.0
/* H(n, s) = sum_{i<=n} i^-s for real n >= 0 (linear between whole n); Euler-Maclaurin past 32 terms. */
double zipf_H(double n, double s);
/* The optimal static cache of cap_bytes over n tables (rows[i] rows of row_bytes[i] bytes, accessed
 * rate[i] times per unit time with Zipf skew zipf[i]): the hottest rows by accesses per byte, found
 * by water-filling.  hit[i] (may be NULL) gets table i's share of lookups served from the cache;
 * returns the share of all lookups. */
double emb_cache_fill(size_t n, const double *rows, const double *row_bytes, const double *rate,
                      const double *zipf, double cap_bytes, double *hit);

/* One table's (or shard's) part of a table-batched embedding kernel on one chip. */
typedef struct sl_emb_access {
  double lookups;     /* rows gathered */
  double row_bytes;   /* bytes of one row */
  double dim;         /* values per row */
  double hit;         /* share of lookups served from the shared SRAM */
  int host;           /* the rows live in host memory: misses cross links.host */
  double out_bytes;   /* pooled rows written (forward) or their gradient read (backward) */
  int backward;       /* fused backward: scatter-add and the optimizer on the touched rows */
  double state_bytes; /* optimizer state of one row, read and written by the backward (row-wise
                         Adagrad: 4) */
} sl_emb_access;

/* Resource times of embedding work; a batched kernel sums them over its tables and takes the max. */
typedef struct sl_emb_time {
  double dram_s, sram_s, host_s, vec_s;
  double dram_bytes, sram_bytes, host_bytes, flops;
} sl_emb_time;
void emb_time_add(const sl_costctx *ctx, const sl_emb_access *e, sl_emb_time *t);
double emb_time_body(const sl_emb_time *t); /* the slowest resource */
sl_bound emb_time_bound(const sl_emb_time *t);
/* One embedding kernel alone: body + kernel latency (the stack's efficiency and launch cost are
 * the caller's, as in cost_op). */
sl_cost cost_embedding(const sl_costctx *ctx, const sl_emb_access *e);
double dram_random_bw(const sl_costctx *ctx); /* bytes/s of whole access units gathered at random */

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

/* sim/dlrm.c */
sl_status dlrm_run(const sl_scenario *sc, sl_result *res, sl_error *err);
/* Scenario checks of a DLRM (called by the scenario loader instead of the LLM parallel rules). */
sl_status dlrm_check_scenario(sl_scenario *sc, const yt_node *root, sl_error *err);

#endif /* SL_INTERNAL_H */
