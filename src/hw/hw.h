/* hw.h — chip and stack *specs*: parse, validate, presets, defaults.  No derived figures
 * beyond peaks; energy per action, area and effective bandwidths are cost/'s. */
#ifndef SL_HW_H
#define SL_HW_H

#include "io/io.h"

/* ---- hw: chip ---------------------------------------------------------------------------------- */
#define SL_MAX_MEM 6
#define SL_MAX_TILES 16
#define SL_DRAM_ACCESS_BYTES 64.0 /* a DRAM access moves whole units of this size (equations.md) */

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
  double base_latency_s;   /* start-up of one collective call on the link (launch, ranks' handshake) */
  double ll_efficiency;    /* bus bandwidth of the low-latency protocol as a fraction of bw_GBps;
                              0 = no such protocol (every message takes the bandwidth protocol) */
  double switch_reduce_efficiency; /* scale-up only: an all-reduce reduced in the switch (multicast
                                      stores, reducing loads) moves S(1+1/k) per chip each way at
                                      this fraction of bw_GBps; 0 = the switch does not reduce */
  double switch_reduce_latency_s;  /* the fixed time such a call adds to the link's start-up */
  double p2p_efficiency; /* scale-up only: the fraction of bw_GBps a custom all-reduce kernel's
                            loads from its peers' buffers reach (vLLM's and TensorRT-LLM's
                            one-shot and two-shot kernels over NVLink P2P); 0 = no figure */
  double p2p_latency_s;  /* its fixed time per stage: the kernel and the flag barrier among ranks */
  double p2p_peer_latency_s;  /* the two-shot kernel's fixed time per stage and peer: what each of the
                                 n-1 peers a stage waits on and loads from adds (0: none) */
  double multimem_efficiency; /* scale-up only: a one-kernel all-reduce reduced in the switch
                                 (PyTorch symmetric memory's multimem_all_reduce_: multimem.ld_reduce
                                 of the rank's slice, multimem.st of the sum) moves S(1+1/n) per chip
                                 each way at this fraction of bw_GBps; 0 = no figure */
  double multimem_latency_s;  /* its fixed time per call: the kernel and its barriers */
  double mesh_links; /* scale-up only: the domain is a full mesh of this many point-to-point links per
                        chip sharing bw_GBps (AMD Infinity Fabric: 7 on 8-GPU platforms), so k chips
                        of a domain reach each other over k-1 of them; 0 = a switch, any k at the
                        full bandwidth */
  /* scale-up only: the one-shot kernel's own figures (every rank reads the whole buffer from each
   * peer in one stage), where they differ from the two-shot kernel's (p2p_efficiency,
   * p2p_latency_s); 0 = those */
  double p2p_one_shot_efficiency, p2p_one_shot_latency_s;
  /* scale-up only: PyTorch symmetric memory's two-shot all-reduce (torch.ops.symm_mem.
   * two_shot_all_reduce_, which vLLM runs where the switch's multimem kernel is not its choice:
   * reduce-scatter of the rank's slice from its peers' buffers, then all-gather, in one kernel):
   * the fraction of bw_GBps its loads reach and its fixed time per call; 0 = no figure */
  double symm_two_shot_efficiency, symm_two_shot_latency_s;
  /* scale-up only: the rate (GB/s) of a ring collective's local step, the slice a rank owns copied
   * into its output (all-gather, all-to-all) or reduced into it (reduce-scatter; both in an
   * all-reduce) by the collective's own thread blocks, a step over no link that the link steps do
   * not hide; it applies to every ring the chip takes part in, in its domain or across; 0 = no
   * such step */
  double local_GBps;
} sl_link;

/* A GEMM library's threadblock tile; warp_m x warp_n, when given (non-zero), is the part of it
 * one warp computes, whose operand fragments every warp reads from the per-core SRAM on each K
 * step (ldmatrix on Ampere; src/cost/gemm.c). */
typedef struct sl_tile {
  int m, n, k;
  int warp_m, warp_n;
  int max_rows; /* the most rows of a product the library runs this tile for; 0: any */
} sl_tile;

/* ---- energy per action of one chip (src/cost/energy.c, docs/energy-cost.md) -------------------
 * Derived by cost's energy_derive from the process node (Horowitz 45 nm figures scaled by the
 * Accelergy/Stillmaker-Baas node factors), the engine shape, the memory levels and the die area,
 * unless the chip spec's optional `energy:` map gives a figure itself. */
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
  double busy_w;               /* watts above static_w while a kernel runs on every core, whatever it
                                  completes (clocks, issue, register files of stalled warps) */
  double top_scale;            /* on-chip energy per action at the top clock over that at the clock a
                                  power-limited GEMM runs at (1 / limit_clock_ratio^2; 1 = the same) */
  const char *source;          /* the spec's energy.source, "" when every figure is derived */
  int derived;                 /* filled by energy_derive */
} sl_energy_spec;

/* The chip spec's optional `energy:` map: figures that replace the ones derived from the node, the
 * engine shape and the memories (NaN: derive it). */
typedef struct sl_energy_over {
  double mac_pj[SL_DTYPE_COUNT], vec_pj_per_flop[SL_DTYPE_COUNT];
  double operand_pj_per_byte, core_sram_pj_per_byte, shared_pj_per_byte, dram_pj_per_bit, link_pj_per_bit;
  double static_w;
  double busy_w;      /* energy.busy_w: 0 when the spec gives none */
  const char *source; /* "" when the spec gives none */
} sl_energy_over;

/* Attention kernel families (FORMATS.md "Stacks"): the scores materialised in memory, or one fused
 * kernel: a generic one, FlashAttention-2, or FlashAttention-3 (Hopper's asynchronous copies and
 * warp specialisation).  The families share one cost model (cost/ops.c); a chip's
 * efficiency.attention gives the fraction of its GEMM efficiency each family sustains, 0 for a
 * family the chip cannot run. */
typedef enum sl_attn_kernel {
  SL_ATTN_UNFUSED,
  SL_ATTN_FUSED,
  SL_ATTN_FLASH2,
  SL_ATTN_FLASH3,
  SL_ATTN_KERNEL_COUNT
} sl_attn_kernel;
extern const char *const sl_attn_kernel_names[SL_ATTN_KERNEL_COUNT + 1];

enum { SL_STACK_FOR_TRAIN, SL_STACK_FOR_INFER, SL_STACK_FOR_DLRM, SL_STACK_FOR_COUNT };
extern const char *const sl_stack_for_names[SL_STACK_FOR_COUNT + 1]; /* "train", "infer", "dlrm" */

typedef struct sl_chip {
  const char *name;
  const char *description;
  const char *file; /* where it came from */
  const char *arch; /* the architecture software keys its per-chip tables by (CUDA's compute
                       capability: "sm90", "sm100"); "" = none named */
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
  double gemm_latency_s[SL_DTYPE_COUNT]; /* a GEMM kernel's own fixed time in that input format, in
                                            place of kernel_latency_s (0: kernel_latency_s) */
  double gemm_stream_stall;              /* the fraction of a GEMM's MAC time its DRAM stream stalls for: a
                                            load stage held by the MACs is not in flight (model.md §2) */
  double attn_paged_call_s;        /* an attention call over a serving engine's paged KV cache: fixed time
                                      beyond its one kernel (the new tokens' cache write and the kernels
                                      around the attention kernel) */
  double attn_paged_seq_s;         /* and per sequence (its block table and first page: dependent reads) */
  double attn_tile_s;              /* fused attention: fixed time of one tile (its Q load, output
                                      write and pipeline fill), on top of its key/value blocks */
  double block_sram_bytes;         /* shared memory one thread block may take (0 = the per-core SRAM) */
  double eff_gemm[SL_DTYPE_COUNT]; /* sustained fraction of matrix peak on full tiles */
  double eff_dram;                 /* fraction of DRAM bandwidth reached by tiled kernels (GEMM) */
  double eff_stream;               /* fraction reached by element-wise / norm / softmax kernels */
  double eff_sram;                 /* same for on-chip shared SRAM */
  double eff_vector;               /* fraction of vector peak */
  double eff_random;               /* fraction of DRAM bandwidth random row gathers reach (whole access
                                      units counted); 0 = take eff_stream */
  double eff_attention[SL_ATTN_KERNEL_COUNT]; /* per fused family: fraction of eff_gemm its matrix
                                                 work sustains; 0 = the chip cannot run it */
  double eff_attention_bwd; /* fraction of the forward's throughput a fused attention backward
                               sustains (its dQ accumulation and the recomputation's sync) */
  const char *eff_gemm_source, *eff_dram_source, *eff_stream_source;
  int validated; /* kernel-level data behind the efficiency figures */
  const char *validation_note;
  sl_energy_over energy_over;  /* the spec's `energy:` map (figures that replace derived ones) */
  double energy_dynamic_scale; /* energy.dynamic_scale: on-chip dynamic energy per action over the
                                  figure derived from the node (1 when the spec gives none) */
  double energy_limit_clock;   /* energy.limit_clock_ratio: the clock of a GEMM held at the TDP over the
                                  top clock, where the dynamic scale was fitted (1 when none given) */
  sl_energy_spec energy;       /* per-action energies, derived by cost's energy_derive (not at load) */
  /* the stack preset a scenario on this chip gets when it names none, by kind of work (NULL:
   * silica's defaults): the software the chip's family runs */
  const char *default_stack[SL_STACK_FOR_COUNT];
} sl_chip;

/* The efficiency a stack takes when its spec gives none: the stack prior, the geometric mean of the
 * fitted efficiencies of the stacks with end-to-end data (`stack_prior` in the compiled-in
 * data/validation/residuals.yaml, written by silica validate --cross-validate --residuals); 1 when
 * the table has none.  Read once per process. */
double stack_prior_efficiency(void);

/* The efficiency a chip's link takes when its spec gives none (filled once, at load). */
extern const double SL_LINK_EFF_UP, SL_LINK_EFF_OUT;
/* Reads {bw_GBps, latency_s, efficiency, oversubscription} into *out (fields absent keep their value). */
sl_status link_read(reader *r, yt_node *l, int required_bw, sl_link *out);
/* Refuses in-switch reduction on a link other than the scale-up one (key: the link's name). */
sl_status link_check_role(reader *r, yt_node *l, const char *key);
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
/* How a serving engine hands out KV-cache blocks (docs/chip-spec.md, docs/serving.md): on demand, preempting
 * the newest sequence when they run out (vLLM's recompute policy), or the whole prompt and output of a
 * request reserved when it is admitted, so that nothing is ever preempted (TensorRT-LLM's
 * GUARANTEED_NO_EVICT capacity scheduler). */
typedef enum sl_kv_policy { SL_KV_PREEMPT, SL_KV_RESERVE, SL_KV_POLICY_COUNT } sl_kv_policy;
extern const char *const sl_kv_policy_names[SL_KV_POLICY_COUNT + 1];

/* Which of the engine's P2P all-reduce kernels runs: vLLM's rule by size and ranks, or one always
 * (TensorRT-LLM's AllReduceStrategy ONESHOT / TWOSHOT; a benchmark's forced column). */
typedef enum sl_p2p_kernel {
  SL_P2P_AUTO,
  SL_P2P_ONE_SHOT,
  SL_P2P_TWO_SHOT,
  SL_P2P_KERNEL_COUNT
} sl_p2p_kernel;
extern const char *const sl_p2p_kernel_names[SL_P2P_KERNEL_COUNT + 1];

/* An engine's all-reduce choice on one chip architecture (vLLM's distributed/device_communicators/
 * all_reduce_utils.py tables, by compute capability): for 2, 4, 6 and 8 ranks (index ranks / 2 - 1),
 * the size below which its own P2P kernel runs, below which symmetric memory's kernel runs above
 * that, and whether that kernel is the switch's multimem one (else symmetric memory's two-shot). */
#define SL_AR_RANKS 4
#define SL_AR_ARCHS 4
typedef struct sl_ar_limits {
  const char *arch;
  double custom_max[SL_AR_RANKS], symm_max[SL_AR_RANKS];
  int multimem[SL_AR_RANKS];
} sl_ar_limits;

/* How an inference engine samples the next token of each sequence from its logits: not costed (none),
 * or as PyTorch's own ops do it (torch: vLLM V1's native sampler, a full sort of the vocabulary for
 * top-p / top-k; docs/model.md "Sampling"). */
typedef enum sl_sampler { SL_SAMPLER_NONE, SL_SAMPLER_TORCH, SL_SAMPLER_COUNT } sl_sampler;
extern const char *const sl_sampler_names[SL_SAMPLER_COUNT + 1];

typedef struct sl_stack {
  const char *name;
  const char *description;
  int attention_fused;             /* attention runs as one kernel (a flash-style family below) */
  sl_attn_kernel attention_kernel; /* which kernel family the stack runs for attention */
  int fused_elementwise;
  double kernel_overhead_s; /* time each kernel launch adds to the timeline */
  int launch_ahead;         /* the host launches kernels asynchronously ahead of the device: a kernel
                               takes the longer of its device time and kernel_overhead_s, not their sum */
  double graph_kernel_overhead_s; /* the same inside a captured CUDA graph (with `graphs`, the steps
                                     that only decode); < 0: as kernel_overhead_s */
  double efficiency;        /* fraction of the device's kernel-level throughput the framework
                               sustains (synchronisation stalls, allocator, gaps); 1 = all */
  int efficiency_given;     /* the spec gives `efficiency`; else the stack prior (stack_prior_efficiency) */
  int graphs;
  int cold_cache; /* a measurement harness that flushes the shared on-chip SRAM (the L2) before each
                     timed kernel: no working set starts on chip, however small (the residency rule,
                     model.md) */
  int overlap_tp_comm, overlap_dp_comm;
  /* training: the loss over the vocabulary is one kernel a pass (default: as fused_elementwise) */
  int fused_cross_entropy;
  /* training: the weight-gradient GEMM adds into the fp32 gradient buffer itself (Megatron's
   * gradient-accumulation fusion); else a separate kernel adds each micro-batch's weight gradient */
  int grad_accum_fusion;
  int overlap_pp_comm; /* interleaved pipeline sends/receives overlap the other chunks' compute */
  /* cores a collective's kernels hold while they overlap compute (NCCL runs one thread block per
   * channel on an SM of its own; 0: none, e.g. transfers done by DMA engines) */
  double comm_cores;
  int gelu_epilogue; /* GELU runs in the epilogue of the GEMM before it, its backward in the data-gradient
                        GEMM's (cuBLASLt GELU_AUX_BIAS / DGELU_BGRAD), when the products are 2 bytes or wider */
  int fused_add_norm;   /* inference: each residual add runs inside the RMSNorm that follows it */
  int quantized_attention; /* inference with products of a byte or less: the fused attention takes 8-bit
                              inputs where the KV cache is 8-bit, and writes its output in the products'
                              format for the output projection (no cast kernel between them) */
  sl_sampler sampler;   /* inference: how the engine draws each sequence's next token from its logits
                           (none: not costed, inside the stack's efficiency) */
  int custom_allreduce; /* all-reduces inside one scale-up domain run the engine's own P2P kernel
                           (one-shot / two-shot, collective.c) where the link has figures for it */
  int symm_mem_allreduce; /* and, above the P2P kernel's size limit, PyTorch symmetric memory's
                             all-reduce (vLLM 0.11: multimem in the switch on 4, 6 and 8 ranks) */
  sl_p2p_kernel p2p_allreduce; /* which P2P kernel (one-shot / two-shot) the engine runs */
  /* the engine's size limits by chip architecture (its `allreduce_limits`); a chip whose arch has
   * no entry takes the built-in Hopper table (ops.c) */
  sl_ar_limits ar_limits[SL_AR_ARCHS];
  int n_ar_limits;
  int recompute_block; /* full recompute of a number of layers per model chunk (Megatron's block method) */
  int sequence_parallel, context_parallel; /* parallelisms the software implements */
  /* the serving scheduler's limits when the scenario's serve.scheduler does not give them (the
   * engine's documented defaults; 0 = the stack names none): tokens per engine step (vLLM's
   * max_num_batched_tokens, TensorRT-LLM's max_num_tokens) and sequences running at once (vLLM's
   * max_num_seqs, TensorRT-LLM's max_batch_size) */
  double max_batch_tokens, max_seqs;
  /* the engine's builder derives both limits per workload from the memory left for the KV cache and
   * the workload's mean prompt and output lengths (trtllm-bench's engine settings; src/sim/serve.c
   * serve_tuned_limits), the stack's max_batch_tokens / max_seqs applying when it does not */
  int tuned_limits;
  /* the serving engine's KV-cache admission (default: preempt) */
  sl_kv_policy kv_policy;
  /* the share of the memory left after weights and activations that the engine gives its KV cache
   * (TensorRT-LLM's free_gpu_memory_fraction); 0 = the stack names none: all of it */
  double kv_cache_fraction;
  /* the share of the chip's whole memory the engine takes for weights, activations and KV cache
   * (vLLM's gpu_memory_utilization); 0 = the stack names none: all of it */
  double memory_utilization;
  /* the serving engine reuses the KV blocks of a prefix shared with an earlier request (vLLM's
   * automatic prefix caching, TensorRT-LLM's KV cache block reuse); default off */
  int prefix_caching;
  double zero;     /* the ZeRO stage a run gets unless its parallel plan says (0-3; Megatron-Core's
                      distributed optimizer is 1, FSDP's full sharding 3) */
  double zero_max; /* the highest ZeRO stage the software implements (3 when the spec says none) */
  /* stacks of one group share their fitted figures, fitted on all their cases together (default: the
   * stack's own name) */
  const char *fit_group;
  const char *fit_cases; /* the case file its fitted figures come from when not the cross-validated set */
  /* DLRM training and inference on a framework driven from the host, op by op (docs/chip-spec.md):
   * the host waits on the device once a step (host_sync), so the step is the longer of the device
   * time and the host's issue time, kernel_overhead_s for each op it issues; the ops counted are the
   * dense graph's, the embedding kernels (one table-batched kernel per sharding kind when
   * embedding_fused, else one per table shard), the optimizer's (one multi-tensor launch when
   * optimizer_foreach, else one per parameter tensor), the collectives, and host_ops_per_feature
   * for every sparse feature a pass */
  int host_sync;
  int embedding_fused;   /* default true */
  int optimizer_foreach; /* default true */
  int grid_sharding;     /* its sharding planner offers grid shards (plan/shard.c); default true */
  double host_ops_per_feature;
  /* host work of one serving-engine step, beside the device's (docs/chip-spec.md "Stacks"): a fixed
   * part (the scheduler's pass, launching the step, reading back the sampled tokens) and a part per
   * sequence in the step (its request's bookkeeping: inputs, sampled token, stop checks) */
  double host_step_s, host_seq_s;
  int host_overlap; /* the host prepares step n+1 while the device runs step n (an overlap scheduler):
                       a step takes the longer of the two; otherwise their sum */
  unsigned fitted;  /* bit i: figure i of sim's stack fit (efficiency, kernel_overhead_s, host_step_s,
                       host_seq_s) is fitted to end-to-end data (the spec's `fitted` list) and refitted
                       by cross-validation */
} sl_stack;

sl_status stack_from_node(reader *r, yt_node *node, sl_stack *out);
/* The stack's all-reduce limits for a chip architecture, NULL when it lists none for it. */
const sl_ar_limits *stack_ar_limits(const sl_stack *st, const char *arch);
/* The stack as it runs a step replayed from a captured CUDA graph: *out = *st with
 * graph_kernel_overhead_s as its kernel_overhead_s.  Returns 0 (out untouched) when the stack runs no
 * graphs or they would change nothing. */
int stack_graph_variant(const sl_stack *st, sl_stack *out);
/* The wall time of one inference-engine step whose device work takes device_s and that runs `seqs`
 * sequences: the stack's host work for it (host_step_s + host_seq_s x seqs) is added to the device's
 * or, when the stack overlaps them (host_overlap) and the step is not `first` (nothing ran on the
 * device while the host prepared it), only what the device's time does not cover. */
double step_with_host(const sl_stack *st, double device_s, double seqs, int first);

const char *preset_path(const char *kind, const char *name); /* "data/chips/x.yaml" or NULL */

/* A spec value: a preset name of `kind` ("chips", ...), a path (relative to the file of `node`), or
 * an inline map.  *out is the tree to read. */
sl_status spec_resolve(reader *r, const char *kind, yt_node *node, yt_node **out);
int spec_is_path(const char *s);

#endif /* SL_HW_H */
