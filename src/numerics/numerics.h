/* numerics.h — functional execution in a chip's number formats (docs/numerics.md):
 * number formats with exact rounding (format.c), matrix products that round their inputs and
 * accumulate in K-chunks the way a matrix engine does (gemm.c), a small Llama-style transformer
 * with forward, backward and AdamW (model.c), and the training experiment behind
 * `silica numerics` (train.c), and a small DLRM with forward, backward, AdamW and row-wise Adagrad
 * (dlrm.c; not driven by the CLI yet).  Not a performance model: it computes numbers.
 *
 * All tensors are double arrays whose values are representable in the format they are said to
 * hold; rounding is explicit (nm_round), so one executor serves fp64 (gradient checks), fp32 and
 * every emulated format. */
#ifndef SL_NUMERICS_H
#define SL_NUMERICS_H

#include "sim/sim.h"

#include <stdint.h>

/* ---- number formats (format.c) ----------------------------------------------------------------- */
typedef enum nm_fmt {
  NM_FP64,       /* no rounding: reference arithmetic */
  NM_FP32,       /* IEEE binary32 */
  NM_TF32,       /* e8m10, inf */
  NM_BF16,       /* e8m7, inf */
  NM_FP16,       /* IEEE binary16, e5m10, inf */
  NM_E4M3,       /* OCP fp8 E4M3FN: bias 7, max 448, no inf, saturates, one NaN per sign */
  NM_E5M2,       /* OCP fp8 E5M2: bias 15, max 57344, inf (overflow rounds to inf) */
  NM_E2M3,       /* OCP MX fp6 element: bias 1, max 7.5, all codes finite, saturates */
  NM_E3M2,       /* OCP MX fp6 element: bias 3, max 28, saturates */
  NM_E2M1,       /* OCP MX fp4 element: bias 1, max 6, saturates */
  NM_INT8,       /* symmetric integers -127..127 (with a per-tensor scale) */
  NM_MXFP8,      /* MX: blocks of 32 E4M3 elements sharing an E8M0 power-of-two scale */
  NM_MXFP8_E5M2, /* MX: blocks of 32 E5M2 elements */
  NM_MXFP6,      /* MX: E2M3 elements */
  NM_MXFP6_E3M2, /* MX: E3M2 elements */
  NM_MXFP4,      /* MX: E2M1 elements */
  NM_FMT_COUNT
} nm_fmt;

extern const char *const nm_fmt_names[NM_FMT_COUNT + 1]; /* "fp64", "fp32", ..., NULL */
int nm_fmt_from_name(const char *s);                     /* -1 when unknown; also "fp8" = e4m3 */

/* The scalar format behind a format: the element format of an MX format, itself otherwise. */
nm_fmt nm_fmt_element(nm_fmt f);
int nm_fmt_is_mx(nm_fmt f);
int nm_fmt_scaled(nm_fmt f); /* needs a per-tensor scale to be usable (fp8, int8) */
int nm_fmt_bits(nm_fmt f);   /* storage bits of one element (fp64: 64) */
double nm_fmt_max(nm_fmt f); /* largest finite value */

/* x rounded to the nearest value of scalar format f (ties to even), with the format's overflow
 * rule: to inf (fp32, tf32, bf16, fp16, e5m2) or to the largest finite value (e4m3, fp6, fp4,
 * int8).  NaN stays NaN.  f must be scalar (not MX). */
double nm_round(nm_fmt f, double x);
/* The same by the general method (frexp, scale, nearbyint, scale back); nm_round takes a faster
 * path on the bit pattern for values inside the format's normal range.  For tests. */
double nm_round_ref(nm_fmt f, double x);
/* Bit patterns of 8-bit-or-narrower formats (e4m3, e5m2, e2m3, e3m2, e2m1): code of x (rounded as
 * nm_round) and value of a code.  NaN encodes as the format's canonical NaN (e4m3 0x7f, e5m2
 * 0x7e); formats without NaN encode NaN as the largest value. */
uint8_t nm_encode8(nm_fmt f, double x);
double nm_decode8(nm_fmt f, uint8_t code);
/* 16-bit formats (bf16, fp16) the same way. */
uint16_t nm_encode16(nm_fmt f, double x);
double nm_decode16(nm_fmt f, uint16_t code);

#define NM_MX_BLOCK 32
/* The E8M0 shared exponent of one MX block (OCP MX v1.0 section 6.3):
 * floor(log2(amax)) - emax(element), clamped to [-127, 127]; 0 for an all-zero block. */
int nm_mx_scale_exp(nm_fmt mx, const double *x, size_t n);
/* Quantizes x[0..n) in place to format f: scalar formats element-wise; MX formats in blocks of 32
 * (the last block may be shorter) to element x 2^scale.  Values stay real (dequantized). */
void nm_quantize(nm_fmt f, double *x, size_t n);
/* Per-tensor scale for scaled formats: s with amax / s = the format's largest value (1 for an
 * all-zero tensor), rounded to fp32 as a scale register would hold it. */
double nm_tensor_scale(nm_fmt f, const double *x, size_t n);

/* ---- matrix products (gemm.c) ------------------------------------------------------------------ */
/* How one matrix product is computed: inputs rounded to `in` (per-tensor scale for fp8/int8, per
 * block of 32 along K for MX), exact products summed in chunks of `kchunk` along K (the engine's
 * tile depth), each chunk's sum rounded to `acc` and added to the accumulator, which is rounded to
 * `acc` again.  The result (times the tensor scales) is rounded to `out`. */
typedef struct nm_gemm_fmt {
  nm_fmt in, acc, out;
  int kchunk; /* >= 1 */
} nm_gemm_fmt;

/* C[M][N] = A[M][K] . B[K][N] (B given as Bt[N][K] when b_trans, likewise A as At[K][M] when
 * a_trans); row-major, contiguous.  Scratch memory is malloc'd; returns SL_ERR_INTERNAL when out
 * of memory.  Uses OpenBLAS (loaded at run time, see nm_blas_available) when the product is exact
 * in fp32 (inputs of at most 24 significant bits, fp32 accumulation) or fp64. */
sl_status nm_gemm(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans, const double *B,
                  int b_trans, double *C);
/* The same computed by the blocked loops only (no BLAS): what the emulation is, bit for bit. */
sl_status nm_gemm_loops(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans,
                        const double *B, int b_trans, double *C);
/* The scalar reference: one output at a time, every input rounded where it is read. */
sl_status nm_gemm_ref(const nm_gemm_fmt *g, int M, int N, int K, const double *A, int a_trans,
                      const double *B, int b_trans, double *C);
int nm_blas_available(void); /* 1 when libopenblas could be loaded */

/* ---- a Llama-style transformer (model.c) ------------------------------------------------------- */
typedef struct nm_tf_cfg {
  int vocab, dim, layers, heads, kv_heads, ffn, seq;
  int tied; /* the head reuses the embedding */
} nm_tf_cfg;

/* Precision of one run: matrix products as `fwd` (forward) and `bwd` (backward: the gradient
 * operand in bwd.in), everything else (norms, softmax, activations, master weights and optimizer
 * state) in `vec` (fp32 or fp64). */
typedef struct nm_prec {
  nm_gemm_fmt fwd, bwd;
  nm_fmt vec;
} nm_prec;
nm_prec nm_prec_uniform(nm_fmt in, nm_fmt acc, int kchunk); /* fwd = bwd, vec = fp32 or fp64 */

/* Scratch of an executor (model.c, dlrm.c): an arena reset per step, and a flag set when it ran
 * out of memory (every later product is then skipped). */
typedef struct nm_work {
  arena scratch;
  int oom;
} nm_work;
double *nm_work_tmp(nm_work *w, size_t n); /* n doubles (at least 1) from the scratch; NULL sets oom */
/* C = A.B with g, or C += A.B (add: the sum rounded to p->vec, as gradient accumulation). */
void nm_work_mm(nm_work *w, const nm_prec *p, const nm_gemm_fmt *g, int M, int N, int K, const double *A,
                int at, const double *B, int bt, double *C, int add);
/* x rounded to the vector format of p. */
static inline double nm_rv(const nm_prec *p, double x) {
  return p->vec == NM_FP64 ? x : nm_round(p->vec, x);
}

/* Parameters: one block with a table of (name, pointer, size) into it, gradients alike. */
#define NM_MAX_PARAMS 64
typedef struct nm_param {
  char name[32];
  double *w, *g, *m, *v; /* value, gradient, AdamW moments */
  size_t n;
} nm_param;

typedef struct nm_tf nm_tf;
/* Model with weights drawn from `seed` (normal, std 0.02, norms 1).  NULL when out of memory or
 * the shape is invalid.  Free with nm_tf_free (NULL is a no-op). */
nm_tf *nm_tf_new(const nm_tf_cfg *cfg, uint64_t seed);
void nm_tf_free(nm_tf *m);
size_t nm_tf_nparams(const nm_tf *m);
size_t nm_tf_count(const nm_tf_cfg *cfg);      /* the same without building the model */
size_t nm_tf_params(nm_tf *m, nm_param **out); /* the table; count returned */
/* Mean cross-entropy of predicting tokens[b][t+1] from tokens[b][..t] for B sequences of cfg.seq+1
 * tokens; with grad, the gradients (overwritten).  logits_out (B*seq*vocab) may be NULL.
 * Returns NaN when out of memory. */
double nm_tf_step(nm_tf *m, const nm_prec *p, const uint8_t *tokens, int B, int grad, double *logits_out);
/* 1 when the last nm_tf_step ran out of memory: tells that NaN from a diverged loss. */
int nm_tf_oom(const nm_tf *m);
/* AdamW (decoupled weight decay on matrices only), bias-corrected; step is 1-based. */
typedef struct nm_adamw {
  double lr, beta1, beta2, eps, weight_decay;
} nm_adamw;
void nm_tf_adamw(nm_tf *m, const nm_adamw *o, int step, nm_fmt vec);

/* ---- a small DLRM (dlrm.c) --------------------------------------------------------------------- */
/* Bottom MLP: dense -> bottom -> dim (ReLU after each); `tables` embedding tables of rows x dim,
 * each looked up `pooling` times per sample and sum-pooled; dot interactions of all pairs (i < j)
 * among the tables + 1 vectors (bottom output, bags), concatenated with the bottom output, feed the
 * top MLP: -> top (ReLU) -> 1; sigmoid + binary cross-entropy.  Parameters: emb0..emb{tables-1}
 * ([rows][dim]), bot.w1 bot.b1 bot.w2 bot.b2 top.w1 top.b1 top.w2 top.b2 (weights [in][out]). */
typedef struct nm_dlrm_cfg {
  int dense, tables, rows, dim, pooling;
  int bottom, top;
} nm_dlrm_cfg;

typedef struct nm_dlrm nm_dlrm;
/* Model with weights drawn from `seed` (embeddings uniform +-sqrt(1/rows), MLP weights normal with
 * variance 2/(in+out), biases 0).  NULL on a bad shape (a size < 1, tables > 56) or out of memory.
 * Free with nm_dlrm_free (NULL is a no-op). */
nm_dlrm *nm_dlrm_new(const nm_dlrm_cfg *cfg, uint64_t seed);
void nm_dlrm_free(nm_dlrm *m);
size_t nm_dlrm_count(const nm_dlrm_cfg *cfg); /* parameters of that shape, without building it */
/* The table; count returned.  Embedding tables have m = NULL and v = their row-wise Adagrad
 * accumulators (rows entries). */
size_t nm_dlrm_params(nm_dlrm *m, nm_param **out);
/* Mean BCE over B samples: dense[B*dense], idx[B*tables*pooling] (row indices, [sample][table][k],
 * taken modulo rows; sum-pooled bags), label[B] in {0,1}; with grad, gradients overwritten.
 * NaN on out of memory (or B < 1). */
double nm_dlrm_step(nm_dlrm *m, const nm_prec *p, const double *dense, const int *idx, const double *label,
                    int B, int grad);
int nm_dlrm_oom(const nm_dlrm *m); /* 1 when the last nm_dlrm_step ran out of memory */
/* AdamW on the MLP weights/biases (decay on weights only); row-wise Adagrad on embedding rows (one
 * accumulator per row: += mean of the squared row gradient; w -= lr g / (sqrt(acc) + o->eps)),
 * only rows touched in the last step with gradients; step 1-based. */
void nm_dlrm_update(nm_dlrm *m, const nm_adamw *o, double adagrad_lr, int step, nm_fmt vec);

/* ---- random numbers (model.c) ------------------------------------------------------------------ */
uint64_t nm_rand_u64(uint64_t *s); /* splitmix64 */
double nm_rand_normal(uint64_t *s);

/* ---- the experiment behind `silica numerics` (train.c) ----------------------------------------- */
#define NM_MAX_RUNS 12
typedef struct nm_run_spec {
  const char *name;
  nm_prec prec;
} nm_run_spec;

typedef struct nm_experiment {
  int dlrm; /* 0: the byte-level transformer (model); 1: a DLRM (dlrm) on synthetic clicks */
  nm_tf_cfg model;
  nm_dlrm_cfg dlrm_cfg;
  double zipf;       /* DLRM: access skew of the rows (0: uniform) */
  double adagrad_lr; /* DLRM: row-wise Adagrad step of the embedding tables */
  int batch, steps;
  int eval_every;     /* held-out evaluation every this many steps (and at the last); 0 = none */
  int eval_sequences; /* held-out sequences of seq + 1 bytes, fixed for every run and seed */
  int noise_seeds;    /* the reference run trained with this many seeds (seed, seed+1, ...) */
  uint64_t seed;
  nm_adamw opt;
  double warmup_steps;
  const char *corpus; /* path, or NULL for /usr/share/games/fortunes */
  const char *chip;   /* chip preset or path for the performance estimate; NULL = none */
  nm_run_spec runs[NM_MAX_RUNS];
  int n_runs;
} nm_experiment;

#define NM_MAX_NOISE_SEEDS 16
typedef struct nm_outcome {
  double *loss;                   /* [n_runs][steps]: training loss at each step */
  double final_loss[NM_MAX_RUNS]; /* mean loss of the last max(1, steps/10) steps */
  /* Held-out evaluation: the mean loss, in fp32, of the trained weights on eval_sequences fixed
   * sequences from the last tenth of the corpus (training samples only the first nine tenths). */
  int n_eval;        /* evaluation points (0: no evaluation) */
  int *eval_step;    /* [n_eval] steps evaluated after */
  double *eval_loss; /* [n_runs][n_eval] */
  double final_eval[NM_MAX_RUNS];
  /* The arithmetic alone: at each run's final weights, the loss and gradients on fixed_n held-out
   * sequences in groups of the training batch (a training step's shapes), computed in the run's
   * formats and in fp32 (the same weights, so no training noise): mean losses, and the norm-wise
   * relative error of all gradients over the groups. */
  int fixed_n;
  double fixed_loss_fmt[NM_MAX_RUNS], fixed_loss_fp32[NM_MAX_RUNS], fixed_grad_err[NM_MAX_RUNS];
  /* Seed noise: the reference run's final evaluation loss for noise_seeds seeds (model init and
   * batch order change, formats do not); noise_sd is their sample standard deviation. */
  int ref_run, n_noise;
  double noise_eval[NM_MAX_NOISE_SEEDS], noise_mean, noise_sd;
  double seconds[NM_MAX_RUNS]; /* host time spent */
  size_t params;
  const char *corpus_used; /* the file read, or "built-in text" */
  int corpus_builtin;
  size_t corpus_bytes;
  /* the chip's estimate (chip != NULL): whole run */
  int have_chip;
  double chip_step_s, chip_time_s, chip_energy_j;
  char chip_note[320];
} nm_outcome;

/* Reads a numerics file (docs/numerics.md) into *ex (strings in a). */
sl_status nm_experiment_load(arena *a, const char *path, nm_experiment *ex, sl_error *err);
/* The same from text (path, which may be NULL, names it in errors). */
sl_status nm_experiment_load_text(arena *a, const char *path, const char *text, nm_experiment *ex,
                                  sl_error *err);
/* Runs it.  *out's arrays are allocated in a. */
sl_status nm_experiment_run(arena *a, const nm_experiment *ex, nm_outcome *out, sl_error *err);

#endif /* SL_NUMERICS_H */
