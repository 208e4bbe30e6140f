/* cost.h — one op on one chip: GEMM tiling, attention, streams, gathers, collectives on the
 * network; energy per action, the power cap, die area. */
#ifndef SL_COST_H
#define SL_COST_H

#include "plan/plan.h"

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
  /* gemm: the roofline's terms, for the clock the TDP allows (gemm_config_capped_time) */
  double clocked_s; /* the body's time in the chip's clock domain: max(MACs and SRAM, L2); for
                     * attention and streams their MAC and vector time */
  double dram_s;    /* its DRAM time: the stream, which a lower clock does not stretch, and stall_s */
  double stall_s;   /* the part of dram_s the stream waits on the MACs (kernels.gemm_stream_stall) */
  /* ---- energy (filled by cost_op through energy_of_cost, src/cost/energy.c) ---- */
  double macs;       /* matrix-engine MACs executed (padding included) */
  double vec_flops;  /* vector-engine FLOP */
  double core_bytes; /* per-core SRAM traffic: operands written from the shared level, read by the engine */
  double link_bytes; /* bytes this chip sends over off-chip links */
  int collective;    /* a collective: its few thread blocks draw no busy power of their own */
  double e_core_j;   /* dynamic energy in the chip's clock/voltage domain (MACs, operands, SRAMs, wires) */
  double e_off_j;    /* dynamic energy outside it (DRAM devices and interfaces, link SerDes) */
} sl_cost;

/* ---- cost: network ------------------------------------------------------------------------------ */

typedef struct sl_net {
  double up_bw, up_lat;      /* scale-up: bytes/s per chip per direction (efficiency applied), s per step */
  double out_bw, out_lat;    /* scale-out, oversubscription applied */
  double node;               /* chips per scale-up domain */
  double up_base, out_base;  /* start-up of one collective call whose widest level is this one */
  double up_ll, out_ll;      /* bus bytes/s of the low-latency protocol; 0 = none */
  double up_sw, up_sw_lat;   /* in-switch reduction on the scale-up level: bytes/s per chip per
                                direction (0 = none) and its fixed time per call */
  double up_p2p, up_p2p_lat; /* a custom P2P all-reduce kernel in one domain: bytes/s per chip
                                (0 = none) and its fixed time per stage */
  double up_p2p_peer;        /* its two-shot stage's fixed time per peer */
  double up_p2p1, up_p2p1_lat; /* its one-shot kernel's */
  double up_mm, up_mm_lat;   /* a one-kernel multimem all-reduce in one domain: bytes/s per chip per
                                direction (0 = none) and its fixed time per call */
  double up_s2, up_s2_lat;   /* symmetric memory's two-shot all-reduce in one domain: bytes/s per chip
                                (0 = none) and its fixed time per call */
  double up_mesh;            /* the scale-up domain's point-to-point links per chip (0 = a switch) */
  double local_bw;           /* a ring's local step, bytes/s (links.scale_up.local_GBps; 0 = none) */
} sl_net;

void net_init(sl_net *net, const sl_link *up, const sl_link *out, double node_chips);
/* The share of a chip's link bandwidth that traffic among k chips of one domain can use: 1 behind a
 * switch (mesh_links 0); on a full mesh of L links, the k-1 links to the other chips, (k-1)/L (at
 * most 1); net_up_share: the same for the scale-up level of a network. */
double mesh_share(double mesh_links, double k);
double net_up_share(const sl_net *net, double k);
/* Bytes/s a link carries per chip per direction on large messages: its bandwidth at its efficiency
 * (hw fills the default efficiency when the spec gives none, so every loaded link has one). */
double link_bw(const sl_link *l);
/* Time of one collective over n ranks, k per scale-up domain; S as defined in collective.c. */
/* An all-reduce of S bytes over the n ranks of one scale-up domain by a custom peer-to-peer kernel
 * (collective.c); time 0 where it does not apply (n outside 2..8, S over 8 MiB, no link figures). */
sl_cost cost_allreduce_p2p(const sl_net *net, double S, double n, sl_p2p_kernel kernel);
/* The same by PyTorch symmetric memory's multimem kernel, reduced in the switch (collective.c);
 * time 0 where it does not apply (no link figures, fewer than 2 ranks). */
sl_cost cost_allreduce_multimem(const sl_net *net, double S, double n);
/* The same by symmetric memory's two-shot kernel (collective.c); time 0 where it does not apply. */
sl_cost cost_allreduce_symm_two_shot(const sl_net *net, double S, double n);
sl_cost cost_collective(const sl_net *net, sl_coll type, double S, double n, double k);

/* The group of a grouped GEMM raster (bands of tile-rows or -columns walked across): 8, the largest
 * swizzle of CUTLASS's sm90 tile scheduler and Triton's customary GROUP_SIZE_M. */
#define SL_GEMM_GROUP 8

/* ---- cost: a memo of GEMM searches ----
 * cost_gemm searches the chip's tile catalogue for every shape.  A sweep worker costs the same
 * shapes again at every design point, and many points change nothing the search reads (the node,
 * the TDP, the DRAM type change only energy and cost).  A memo keeps the search's answers for one
 * set of the chip figures it reads (the chip key); when they change, it starts empty.  A hit is
 * therefore exactly what the search would return.  One memo per thread (it is written on use). */
#define SL_GEMM_MEMO_SIZE 64
#define SL_GEMM_TIED 16 /* configurations as fast as the answer that a memo entry keeps */
typedef struct sl_gemm_chip_key {
  double cores, clock_ghz, stream_k, max_split_k, n_tiles, kernel_latency_s, eff_sram;
  double gemm_latency_s[SL_DTYPE_COUNT];
  double has_sram, sram_bw, has_l2, l2_bw, l2_capacity, mem_bw;
  double macs[SL_DTYPE_COUNT], eff_gemm[SL_DTYPE_COUNT];
  double vec[SL_DTYPE_COUNT], eff_vector; /* the products of a format the matrix engine lacks */
  sl_tile tiles[SL_MAX_TILES];
} sl_gemm_chip_key;
/* The figures the power cap in the ranking reads (gemm_config_capped_time). */
typedef struct sl_gemm_energy_key {
  double tdp_w, derived, static_w, top, operand, core_sram, shared, dram;
  double mac[SL_DTYPE_COUNT], operand_per_mac[SL_DTYPE_COUNT];
} sl_gemm_energy_key;
typedef struct sl_gemm_memo {
  sl_gemm_chip_key chip;     /* the figures every entry was searched with */
  sl_gemm_energy_key energy; /* the energy figures of the latest search */
  double energy_gen;         /* counts changes of `energy` */
  int n, next;               /* entries in use; the one replaced next when full */
  struct {
    double shape[8];   /* m, n, k, batch, dt, a_bytes, b_bytes, c_bytes */
    sl_cost cost;      /* cost_gemm's answer (no energy: cost_op fills it per call) */
    double energy_gen; /* the energy figures it was searched or checked with */
    int free;          /* the answer is the fastest configuration at full clock: it stays the
                          answer under any energy figures that keep it under the cap (or, tied
                          with others as fast, the one of them those figures make cheapest) */
    int n_tied;        /* the configurations as fast at full clock (the answer among them) */
    sl_cost tied[SL_GEMM_TIED];
  } e[SL_GEMM_MEMO_SIZE];
  double hits, misses;
} sl_gemm_memo;

/* Where operands stream from: normally the DRAM, or the on-chip shared SRAM when the whole
 * working set of the scenario is resident there. */
typedef struct sl_costctx {
  const sl_chip *chip;
  const sl_stack *stack;
  double mem_bw;    /* bytes/s, efficiency applied: tiled kernels */
  double stream_bw; /* bytes/s for element-wise kernels */
  double mem_latency_s;
  sl_net net;
  int resident;            /* operands stream from the shared on-chip SRAM, not DRAM (for energy) */
  sl_gemm_memo *gemm_memo; /* optional, owned by the caller (NULL after cost_ctx_init: none) */
  const sl_ar_limits *ar_limits; /* the stack's all-reduce limits for the chip's arch, looked up once by
                                    cost_ctx_init (NULL: none, or no symmetric memory) */
} sl_costctx;

void cost_ctx_init(sl_costctx *ctx, const sl_chip *chip, const sl_stack *stack, int resident_on_chip);
sl_cost cost_gemm(const sl_costctx *ctx, const sl_gemm_shape *g);
/* One configuration, no search (exposed for the reference test). */
double gemm_fragment_bytes_per_mac(const sl_gemm_shape *g, sl_tile t);
double gemm_tile_sram_bytes(const sl_gemm_shape *g, sl_tile t, double kp);
double gemm_sram_eff(const sl_chip *c, sl_tile t);
sl_cost cost_gemm_config(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k);
/* The time configuration r of g runs in on the power-limited chip (the single-kernel TDP cap):
 * what cost_gemm ranks configurations by.  r's own time, when the chip has no energy table. */
double gemm_config_capped_time(const sl_costctx *ctx, const sl_gemm_shape *g, sl_cost r);
/* Naive reference: walks every tile of every wave into *out; tests compare it with
 * cost_gemm_config.  SL_ERR_INTERNAL when out of memory. */
sl_status cost_gemm_config_ref(const sl_costctx *ctx, const sl_gemm_shape *g, sl_tile t, int split_k,
                               sl_cost *out);
sl_cost cost_attention(const sl_costctx *ctx, const sl_attn_shape *a);
sl_cost cost_stream(const sl_costctx *ctx, double bytes, double flops, sl_dtype dt);
sl_cost cost_gather(const sl_costctx *ctx, double lookups, double row_bytes);
sl_cost cost_op(const sl_costctx *ctx, const sl_op *op); /* dispatch, kernel overhead added */
/* Bytes a row reduction reads again because its row does not fit one thread block's SRAM. */
double stream_reread(const sl_chip *c, const sl_op *op);
/* Device time of work launched as a kernel that takes time_s at full speed: the stack's efficiency
 * stretches it and each launch adds the stack's kernel_overhead_s.  The one home of the launch
 * cost: the ops of a graph (cost_op) and the framework's own work (pipeline sends, gradient
 * synchronisation, the optimizer) both go through it. */
double cost_launched(const sl_stack *st, double time_s);
/* The on-chip energy of a kernel launched by the stack: its kernel-level on-chip energy (e_core_j)
 * times the stretch of its time by the stack's efficiency.  The stack's losses are time inside its
 * kernels, cores occupied and clocked at the kernel's own activity, so a kernel draws its
 * kernel-level on-chip power for its stretched time; its DRAM and link bytes are what it moves,
 * so they are not stretched; the launch gaps (kernel_overhead_s) draw static power only
 * (docs/energy-cost.md §1.2). */
double cost_stack_core_j(const sl_stack *st, double e_core_j);
/* A collective as the framework issues it: the network time (cost_collective, its call's start-up
 * included) at the stack's efficiency.  The communication library launches its own kernel on its
 * own stream, so the stack's per-kernel dispatch (kernel_overhead_s) is not charged.  The one home
 * of a collective call's cost: the graphs' collective ops (cost_op) and the framework's own
 * (pipeline sends, gradient synchronisation) both go through it. */
sl_cost cost_collective_call(const sl_costctx *ctx, sl_coll type, double S, double n, double k);
/* A kernel (launch included) whose launch overhead is more than the rest of its time is
 * latency-bound, whatever bound its body had. */
int cost_launch_bound(const sl_stack *st, double time_s);

/* FLOP/s one core sustains on matrix products of format dt: the matrix engine at its GEMM
 * efficiency, or, for a format it does not take (fp32 on NVIDIA tensor cores), the vector units at
 * the vector efficiency, as cuBLAS's SIMT kernels run them; 0 when neither takes it. */
double gemm_core_flops(const sl_chip *c, sl_dtype dt);
/* A GEMM kernel's fixed time in format dt: the chip's figure for that format, else its kernel latency. */
double gemm_latency(const sl_chip *c, sl_dtype dt);
/* Whether a flash-style kernel's working set fits the per-core SRAM. */
int attention_fits(const sl_chip *c, double head_dim, double bytes);
/* How the scenario's ops run on its chip under its stack: attention fused when the stack has a
 * flash-style kernel and its blocks fit the per-core SRAM; products in the activation format when
 * the matrix engine takes it, else in the weight format (weight-only quantisation). */
sl_lowering cost_lowering(const sl_scenario *sc);

/* ---- cost: energy per action, power cap (src/cost/energy.c) ---- */
double energy_node_factor(double process_nm);             /* energy per action at the node / at 45 nm */
double energy_sram_pj_per_byte_45(double capacity_bytes); /* Horowitz SRAM access at 45 nm, by array size */
double energy_dram_pj_per_bit(const char *level_name);    /* by DRAM type (hbm*, lpddr*, gddr*, ddr*) */
/* Fills c->energy from the chip's node, engine shape, memories and area, taking each figure the
 * spec's `energy:` map gives instead when use_overrides (code that changes a loaded chip's node,
 * memories, engine shape, area or TDP re-derives with use_overrides 0: the spec's figures were
 * for the chip it described).  Every chip is derived once before it is costed. */
void energy_derive(sl_chip *c, int use_overrides);
/* The kernel at the top clock (docs/energy-cost.md 2.5, 2.20: one limiter, the step's): fills
 * cost->e_core_j and cost->e_off_j from the action counts of one op instance, its on-chip energy the
 * top clock's, and moves its time and clocked parts from the clock a kernel measured on the
 * power-limited board ran at to the top one (dt: the matrix/vector format of the op; resident: its
 * "DRAM" bytes come from the shared SRAM).  The step's cap (power_cap) then sets the clock. */
void energy_of_cost(const sl_chip *c, sl_dtype dt, int resident, sl_cost *cost);
/* The fraction of the chip's cores an op keeps busy (tiles over the slots of its waves; 1 for a
 * kernel launched over the chip; 0 for a collective), which scales energy.busy_w. */
double energy_busy_fraction(const sl_chip *c, const sl_cost *k);
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

/* Kernels on the memory side of their roofline, for the cap: a kernel whose DRAM stream takes d
 * and whose clocked work takes c < d at the top clock keeps its time down to the clock ratio
 * r = c / d and takes c / r below it (energy-cost.md §2.16).  A step's such kernels are summed in bins of
 * c / d (SL_NEAR_BINS equal bins over [0, 1); a ratio of 1 or more in the last), each bin taken
 * as one kernel of its sums, so that steps add up bin by bin. */
#define SL_NEAR_BINS 16
typedef struct sl_near {
  unsigned used; /* bit k: bin k holds kernels; the others are not read (used 0: empty, whatever they hold) */
  struct {
    double c, d; /* the bin's clocked time and DRAM time, side by side: a step reads a few bins */
  } b[SL_NEAR_BINS];
} sl_near;
/* One memory-bound kernel's (or row's) parts: at clock ratio r it takes stall / r + max(c / r, d)
 * + what no clock changes; stall is time in the clock domain alone (the DRAM stream's stall under
 * the MACs, or the whole body of a kernel its L2 time bounds), c < d. */
typedef struct sl_clockpart {
  double stall, c, d;
} sl_clockpart;
/* The parts of k (its time_s counted `times` times); zero unless k is memory-bound with a clocked
 * part. */
sl_clockpart clockpart_of(const sl_cost *k, double times);
/* The same parts whatever k's bound: a body its clocked work bounds is all stall (one kernel's
 * time under the cap, gemm_config_capped_time). */
sl_clockpart clockpart_body(const sl_cost *k, double times);
void near_add(sl_near *n, double c_s, double d_s);
void near_add_part(sl_near *n, double *t_clock_s, sl_clockpart p); /* stall to t_clock, c and d binned */
void near_axpy(sl_near *a, double w, const sl_near *b);            /* a += w b */
double near_extra(const sl_near *n, double r); /* sum over the bins of max(0, c / r - d) */
/* p's share of the extra time of the bins n it was added to (near_add_part) at clock ratio r: its
 * stall's, and its bin's extra in proportion to its clocked time, so that a step's parts add up to
 * t_clock / r + t_other + near_extra. */
double near_share(const sl_near *n, sl_clockpart p, double r);
/* power_cap with the near-ridge kernels n (NULL: none): at clock ratio r the work takes
 * t_clock / r + t_other + near_extra(n, r), t_other holding the kernels' DRAM time d. */
sl_capped power_cap_near(const sl_chip *c, double e_core_j, double e_off_j, double t_clock_s,
                         double t_other_s, const sl_near *n);
/* As power_cap for one kernel whose clocked work overlaps a memory time: at clock ratio r it takes
 * max(t_clock / r, t_overlap) + t_other. */
sl_capped power_cap_overlap(const sl_chip *c, double e_core_j, double e_off_j, double t_clock_s,
                            double t_overlap_s, double t_other_s);
double power_energy_scale(double clock_ratio); /* energy per on-chip action at clock ratio r / at r = 1 */

/* ---- econ: die area (src/econ/area.c) ---- */
typedef struct sl_area {
  double matrix_mm2, vector_mm2, control_mm2, core_sram_mm2, shared_sram_mm2, noc_mm2;
  double dram_io_mm2, link_io_mm2, other_mm2, total_mm2;
} sl_area;
void area_estimate(const sl_chip *c, sl_area *out);
double chip_area_mm2(const sl_chip *c); /* the published die area, else the estimate */

/* cost/embedding.c: embedding bags.  Rows move in whole DRAM access units (SL_DRAM_ACCESS_BYTES). */
/* H(n, s) = sum_{i<=n} i^-s for real n >= 0 (linear between whole n); Euler-Maclaurin past 32 terms. */
double zipf_H(double n, double s);
/* The optimal static cache of cap_bytes over n tables (rows[i] rows of row_bytes[i] bytes, accessed
 * rate[i] times per unit time with Zipf skew zipf[i], and urate[i] times uniformly over the rows;
 * urate may be NULL): the hottest rows by accesses per byte, found by water-filling.  hit[i] (may be
 * NULL) gets table i's share of lookups served from the cache; returns the share of all lookups.
 * scratch: 2n doubles the caller owns (overwritten), so that the function allocates nothing and
 * cannot fail. */
double emb_cache_fill(size_t n, const double *rows, const double *row_bytes, const double *rate,
                      const double *urate, const double *zipf, double cap_bytes, double *hit,
                      double *scratch);

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

#endif /* SL_COST_H */
