/* train.c — the experiment behind `silica numerics FILE` (docs/numerics.md): reads the numerics
 * file, trains the same byte-level transformer from the same seed on the same batches once per
 * run (format, accumulation, K-chunk), and estimates with the performance model what the chosen
 * chip would take for the run. */
#include "numerics/numerics.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define NM_CORPUS_DIR "/usr/share/games/fortunes"

/* Used only when Debian's fortunes are not installed (the caller says so). */
static const char BUILTIN_TEXT[] =
    "The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with a single step.\n"
    "All that glitters is not gold. Fortune favors the bold. Knowledge is power. Time is money.\n"
    "To be or not to be, that is the question. The early bird catches the worm. Practice makes perfect.\n"
    "Where there is a will there is a way. Actions speak louder than words. Better late than never.\n"
    "When in doubt, make the code easy for the next person to read and to change.\n";

static sl_status fmt_key(reader *r, yt_node *map, const char *key, int required, nm_fmt *out) {
  int v = *out;
  sl_status s = rd_enum(r, map, key, required, nm_fmt_names, &v);
  if (!s) *out = (nm_fmt)v;
  return s;
}

sl_status nm_experiment_load(arena *a, const char *path, nm_experiment *ex, sl_error *err) {
  return nm_experiment_load_text(a, path, NULL, ex, err);
}

sl_status nm_experiment_load_text(arena *a, const char *path, const char *text, nm_experiment *ex,
                                  sl_error *err) {
  memset(ex, 0, sizeof *ex);
  ex->model = (nm_tf_cfg){256, 128, 2, 4, 2, 256, 64, 1};
  ex->batch = 4;
  ex->steps = 100;
  ex->seed = 1;
  ex->opt = (nm_adamw){3e-3, 0.9, 0.95, 1e-8, 0.01};
  ex->warmup_steps = 20;
  ex->eval_sequences = 32;
  ex->noise_seeds = 1;
  yt_node *root;
  sl_status s = text ? yt_parse(a, text, strlen(text), path, &root, err) : yt_parse_file(a, path, &root, err);
  if (text && !path) path = "<input>";
  if (s) return s;
  reader rd = {err, a, ""}, *r = &rd;
  if ((s = rd_map(r, root))) return s;
  long kchunk = 32;
  if ((s = rd_int(r, root, "kchunk", 0, 1, 4096, &kchunk))) return s;
  if ((s = rd_string(r, root, "corpus", 0, &ex->corpus))) return s;
  if ((s = rd_string(r, root, "chip", 0, &ex->chip))) return s;
  yt_node *mo = yt_get(root, "model");
  yt_node *dl = mo && mo->type == YT_MAP ? yt_get(mo, "dlrm") : NULL;
  ex->dlrm_cfg = (nm_dlrm_cfg){8, 4, 1000, 16, 2, 32, 32};
  ex->zipf = 1.05;
  ex->adagrad_lr = 0.05;
  if (dl) { /* model: {dlrm: {dense, tables, rows, dim, pooling, bottom, top, zipf}} */
    ex->dlrm = 1;
    ex->batch = 256;
    ex->eval_sequences = 4096;
    rd_mark mk = rd_push(r, "model");
    if ((s = rd_map(r, mo))) return s;
    rd_mark md = rd_push(r, "dlrm");
    nm_dlrm_cfg *c = &ex->dlrm_cfg;
    long v[7] = {c->dense, c->tables, c->rows, c->dim, c->pooling, c->bottom, c->top};
    static const char *const keys[7] = {"dense", "tables", "rows", "dim", "pooling", "bottom", "top"};
    static const long hi[7] = {1024, NM_MAX_PARAMS - 8, 1000000, 512, 64, 4096, 4096};
    if ((s = rd_map(r, dl))) return s;
    for (int i = 0; i < 7; i++)
      if ((s = rd_int(r, dl, keys[i], 0, 1, hi[i], &v[i]))) return s;
    if ((s = rd_double(r, dl, "zipf", 0, 0, 4, &ex->zipf)) || (s = rd_done(r, dl))) return s;
    *c = (nm_dlrm_cfg){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6]};
    rd_pop(r, md);
    if ((s = rd_done(r, mo))) return s;
    rd_pop(r, mk);
  } else if (mo) {
    rd_mark mk = rd_push(r, "model");
    long v[6] = {ex->model.dim,      ex->model.layers, ex->model.heads,
                 ex->model.kv_heads, ex->model.ffn,    ex->model.seq};
    static const char *const keys[6] = {"dim", "layers", "heads", "kv_heads", "ffn", "seq"};
    static const long hi[6] = {1024, 8, 64, 64, 4096, 512};
    int tied = 1;
    if ((s = rd_map(r, mo))) return s;
    for (int i = 0; i < 6; i++)
      if ((s = rd_int(r, mo, keys[i], 0, 1, hi[i], &v[i]))) return s;
    if ((s = rd_bool(r, mo, "tied", 0, &tied))) return s;
    if ((s = rd_done(r, mo))) return s;
    ex->model = (nm_tf_cfg){256, (int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], tied};
    if (v[0] % v[2] || (v[0] / v[2]) % 2 || v[2] % v[3])
      return rd_fail(r, mo,
                     "dim must be a multiple of heads with an even head size, heads a multiple of kv_heads");
    rd_pop(r, mk);
  }
  yt_node *tr = yt_get(root, "train");
  if (tr) {
    rd_mark mk = rd_push(r, "train");
    long steps = ex->steps, batch = ex->batch, seed = (long)ex->seed, every = -1, nseq = ex->eval_sequences,
         noise = ex->noise_seeds;
    /* the held-out set: sequences of the corpus (transformer) or samples (DLRM) */
    const char *ekey = ex->dlrm ? "eval_samples" : "eval_sequences",
               *wrong = ex->dlrm ? "eval_sequences" : "eval_samples";
    if ((s = rd_map(r, tr))) return s;
    if (yt_get(tr, wrong))
      return rd_fail(r, yt_get(tr, wrong), "%s is for %s; this model takes %s", wrong,
                     ex->dlrm ? "the transformer" : "a DLRM", ekey);
    if ((s = rd_int(r, tr, "steps", 0, 1, 1000000, &steps)) ||
        (s = rd_int(r, tr, "batch", 0, 1, ex->dlrm ? 4096 : 512, &batch)) ||
        (s = rd_int(r, tr, "seed", 0, 0, 1L << 40, &seed)) ||
        (s = rd_int(r, tr, "eval_every", 0, 0, 1000000, &every)) ||
        (s = rd_int(r, tr, ekey, 0, 0, ex->dlrm ? 16384 : 256, &nseq)) ||
        (s = rd_int(r, tr, "noise_seeds", 0, 1, NM_MAX_NOISE_SEEDS, &noise)) ||
        (s = rd_double(r, tr, "lr", 0, 0, 1, &ex->opt.lr)) ||
        (s = rd_double(r, tr, "warmup_steps", 0, 0, 1e6, &ex->warmup_steps)) ||
        (s = rd_double(r, tr, "weight_decay", 0, 0, 1, &ex->opt.weight_decay)) ||
        (s = rd_double(r, tr, "beta1", 0, 0, 0.9999, &ex->opt.beta1)) ||
        (s = rd_double(r, tr, "beta2", 0, 0, 0.999999, &ex->opt.beta2)))
      return s;
    if (ex->dlrm && (s = rd_double(r, tr, "adagrad_lr", 0, 0, 10, &ex->adagrad_lr))) return s;
    if ((s = rd_done(r, tr))) return s;
    ex->steps = (int)steps;
    ex->batch = (int)batch;
    ex->seed = (uint64_t)seed;
    ex->eval_every = every >= 0 ? (int)every : ex->steps >= 10 ? ex->steps / 10 : 1;
    ex->eval_sequences = (int)nseq;
    ex->noise_seeds = (int)noise;
    rd_pop(r, mk);
  } else {
    ex->eval_every = ex->steps >= 10 ? ex->steps / 10 : 1;
  }
  if (ex->eval_sequences == 0) ex->eval_every = 0;
  if (!ex->dlrm && (long)ex->batch * ex->model.seq > 512)
    return rd_fail(r, tr ? tr : root, "train.batch x model.seq = %ld tokens per step; at most 512",
                   (long)ex->batch * ex->model.seq);
  if (ex->dlrm && ex->corpus)
    return rd_fail(r, yt_get(root, "corpus"), "a DLRM trains on synthetic clicks: no corpus");
  yt_node *runs = yt_get(root, "runs");
  rd_mark mr = rd_push(r, "runs");
  if (!runs || runs->type != YT_SEQ || runs->n == 0)
    return rd_fail(r, runs ? runs : root, "expected a list of runs");
  if (runs->n > NM_MAX_RUNS) return rd_fail(r, runs, "at most %d runs", NM_MAX_RUNS);
  for (size_t i = 0; i < runs->n; i++) {
    rd_mark mi = rd_push_index(r, i);
    yt_node *n = runs->items[i];
    nm_run_spec *rs = &ex->runs[i];
    nm_fmt in = NM_FP32, acc = NM_FP32, gin;
    long kc = kchunk;
    if ((s = rd_map(r, n)) || (s = fmt_key(r, n, "format", 1, &in))) return s;
    gin = in;
    if ((s = fmt_key(r, n, "grad_format", 0, &gin)) || (s = fmt_key(r, n, "accumulate", 0, &acc)) ||
        (s = rd_int(r, n, "kchunk", 0, 1, 4096, &kc)))
      return s;
    rs->name = nm_fmt_names[in];
    if ((s = rd_string(r, n, "name", 0, &rs->name)) || (s = rd_done(r, n))) return s;
    if (nm_fmt_is_mx(acc) || nm_fmt_scaled(acc) || nm_fmt_bits(acc) < 16)
      return rd_fail(r, n, "accumulate must be fp64, fp32, tf32, bf16 or fp16");
    rs->prec = nm_prec_uniform(in, acc, (int)kc);
    rs->prec.bwd.in = gin;
    rd_pop(r, mi);
  }
  ex->n_runs = (int)runs->n;
  rd_pop(r, mr);
  if ((s = rd_done(r, root))) return s;
  size_t np = ex->dlrm ? nm_dlrm_count(&ex->dlrm_cfg) : nm_tf_count(&ex->model);
  if (np > 2000000)
    return err_set(err, SL_ERR_INPUT, path, mo ? mo->line : 0, "model", "%zu parameters; at most 2M", np);
  return SL_OK;
}

enum { CORPUS_UNREADABLE = -1, CORPUS_OOM = -2 };

/* Appends the file at path to buf (NUL-terminated, *len bytes).  0, CORPUS_UNREADABLE or
 * CORPUS_OOM. */
static int slurp(const char *path, char **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return CORPUS_UNREADABLE;
  char chunk[65536];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
    char *p = realloc(*buf, *len + k + 1);
    if (!p) {
      fclose(f);
      return CORPUS_OOM;
    }
    *buf = p;
    memcpy(*buf + *len, chunk, k);
    *len += k;
    (*buf)[*len] = 0;
  }
  fclose(f);
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus: a file, or every plain fortune file of a directory (names without a dot: not the
 * .dat indexes or .u8 links), in name order; an unreadable file of the directory is skipped.
 * 0, CORPUS_UNREADABLE (nothing read) or CORPUS_OOM. */
static int load_corpus(const char *path, char **buf, size_t *len) {
  struct stat st;
  if (stat(path, &st) != 0) return CORPUS_UNREADABLE;
  if (!S_ISDIR(st.st_mode)) return slurp(path, buf, len);
  DIR *d = opendir(path);
  if (!d) return CORPUS_UNREADABLE;
  char *names[256];
  size_t n = 0;
  int rc = 0;
  struct dirent *e;
  while (!rc && (e = readdir(d)) && n < SL_ARRAY_LEN(names))
    if (e->d_name[0] != '.' && !strchr(e->d_name, '.')) {
      size_t l = strlen(path) + strlen(e->d_name) + 2;
      if (!(names[n] = malloc(l))) {
        rc = CORPUS_OOM;
        break;
      }
      snprintf(names[n++], l, "%s/%s", path, e->d_name);
    }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (!rc && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && slurp(names[i], buf, len) == CORPUS_OOM)
      rc = CORPUS_OOM;
    free(names[i]);
  }
  if (rc) return rc;
  return *len > 0 ? 0 : CORPUS_UNREADABLE;
}

static double lr_at(const nm_experiment *ex, int step) { /* linear warm-up, cosine to 10% */
  if (step <= ex->warmup_steps) return ex->opt.lr * step / (ex->warmup_steps > 0 ? ex->warmup_steps : 1);
  double t = (step - ex->warmup_steps) / fmax(1, ex->steps - ex->warmup_steps);
  return ex->opt.lr * (0.1 + 0.45 * (1 + cos(3.141592653589793 * t)));
}

/* What the chip would take: one training step of the same shape with the performance model.  A
 * model that cannot estimate it is a note; an internal error (out of memory) is returned. */
static sl_status chip_estimate(const nm_experiment *ex, size_t params, nm_outcome *out, sl_error *err) {
  const nm_tf_cfg *c = &ex->model;
  char text[8192];
  if (ex->dlrm) { /* the same DLRM through the performance model's DLRM front end */
    const nm_dlrm_cfg *d = &ex->dlrm_cfg;
    int l = snprintf(
        text, sizeof text,
        "{chip: \"%s\", task: train, precision: bf16, model: {name: numerics-dlrm, dlrm: {dense_features: "
        "%d, zipf: %g, bottom_mlp: [%d, %d], top_mlp: [%d, 1], interaction: {type: dot}, tables: [",
        ex->chip, d->dense, ex->zipf, d->bottom, d->dim, d->top);
    for (int t = 0; t < d->tables && l > 0 && (size_t)l < sizeof text; t++)
      l += snprintf(text + l, sizeof text - (size_t)l, "%s{rows: %d, dim: %d, pooling: %d}", t ? ", " : "",
                    d->rows, d->dim, d->pooling);
    if (l > 0 && (size_t)l < sizeof text)
      snprintf(text + l, sizeof text - (size_t)l, "]}}, train: {global_batch: %d, optimizer: adagrad}}",
               ex->batch);
  } else {
    snprintf(text, sizeof text,
             "{chip: \"%s\", task: train, precision: bf16, model: {name: numerics, transformer: {hidden: %d, "
             "layers: %d, heads: %d, kv_heads: %d, ffn: %d, vocab: %d, activation: swiglu, norm: rmsnorm, "
             "position: rope, tied_embeddings: %s, max_context: %d}}, train: {seq_len: %d, global_batch: %d, "
             "micro_batch: %d}}",
             ex->chip, c->dim, c->layers, c->heads, c->kv_heads, c->ffn, c->vocab, c->tied ? "true" : "false",
             c->seq, c->seq, ex->batch, ex->batch);
  }
  (void)params;
  sl_scenario *sc = NULL;
  sl_result *res = NULL;
  sl_error e;
  memset(&e, 0, sizeof e);
  sl_status s = sl_scenario_load(NULL, text, NULL, 0, &sc, &e);
  if (!s) s = sl_scenario_run(sc, &res, &e);
  if (!s) {
    out->have_chip = 1;
    out->chip_step_s = sl_result_number(res, "step_time_s");
    out->chip_time_s = out->chip_step_s * ex->steps;
    out->chip_energy_j = sl_result_number(res, "energy.step_j") * ex->steps;
    snprintf(out->chip_note, sizeof out->chip_note, "bf16 training step of the same shape on %s", ex->chip);
  } else {
    snprintf(out->chip_note, sizeof out->chip_note, "no estimate: %.200s", e.message);
  }
  sl_result_free(res);
  sl_scenario_free(sc);
  if (s == SL_ERR_INTERNAL) {
    if (err) *err = e;
    return s;
  }
  return SL_OK;
}

/* ---- what a run trains on: a corpus (transformer) or synthetic clicks (DLRM) ---- */

/* Synthetic clicks: a fixed teacher (its own seed, the same for every run and training seed).
 * Dense features x ~ N(0, 1); each table is looked up `pooling` times, rows drawn with Zipf
 * probabilities (r + 1)^-zipf; the click probability is sigmoid(2 s) with
 *   s = w.x / sqrt(dense) + sum_t mean_k v_t[row_tk] + sum_{t<u} a_t[row_t0] a_u[row_u0] / sqrt(pairs),
 * w, v, a ~ N(0, 1): a linear part and a pairwise part that the dot interaction can represent. */
typedef struct teacher {
  nm_dlrm_cfg c;
  double *w, *v, *a, *cdf; /* dense; [tables][rows]; [tables][rows]; [rows] cumulative Zipf */
} teacher;

static int teacher_init(teacher *t, const nm_dlrm_cfg *c, double zipf) {
  t->c = *c;
  size_t TR = (size_t)c->tables * c->rows;
  t->w = malloc((size_t)c->dense * sizeof *t->w);
  t->v = malloc(TR * sizeof *t->v);
  t->a = malloc(TR * sizeof *t->a);
  t->cdf = malloc((size_t)c->rows * sizeof *t->cdf);
  if (!t->w || !t->v || !t->a || !t->cdf) return -1;
  uint64_t g = 0x7eac4e5ull;
  for (int i = 0; i < c->dense; i++)
    t->w[i] = nm_rand_normal(&g);
  for (size_t i = 0; i < TR; i++)
    t->v[i] = nm_rand_normal(&g), t->a[i] = nm_rand_normal(&g);
  double sum = 0;
  for (int r = 0; r < c->rows; r++)
    t->cdf[r] = sum += pow(r + 1.0, -zipf);
  for (int r = 0; r < c->rows; r++)
    t->cdf[r] /= sum;
  return 0;
}

static void teacher_free(teacher *t) {
  free(t->w);
  free(t->v);
  free(t->a);
  free(t->cdf);
}

static int zipf_row(const teacher *t, uint64_t *g) {
  double u = (double)(nm_rand_u64(g) >> 11) * 0x1p-53;
  int lo = 0, hi = t->c.rows - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (t->cdf[mid] < u)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* n samples into dense[n][dense], idx[n][tables][pooling], label[n]. */
static void teacher_draw(const teacher *t, uint64_t *g, int n, double *dense, int *idx, double *label) {
  const nm_dlrm_cfg *c = &t->c;
  const int T = c->tables, P = c->pooling;
  const double pairs = T > 1 ? T * (T - 1) / 2.0 : 1;
  for (int b = 0; b < n; b++) {
    double *x = dense + (size_t)b * c->dense, s = 0;
    for (int i = 0; i < c->dense; i++)
      s += t->w[i] * (x[i] = nm_rand_normal(g));
    s /= sqrt((double)c->dense);
    int *ix = idx + (size_t)b * T * P;
    for (int k = 0; k < T; k++) {
      double m = 0;
      for (int q = 0; q < P; q++)
        m += t->v[(size_t)k * c->rows + (size_t)(ix[k * P + q] = zipf_row(t, g))];
      s += m / P;
    }
    double pr = 0;
    for (int k = 0; k < T; k++)
      for (int u = k + 1; u < T; u++)
        pr += t->a[(size_t)k * c->rows + (size_t)ix[k * P]] * t->a[(size_t)u * c->rows + (size_t)ix[u * P]];
    s += pr / sqrt(pairs);
    double prob = 1 / (1 + exp(-2 * s));
    label[b] = (double)(nm_rand_u64(g) >> 11) * 0x1p-53 < prob;
  }
}

/* What the runs read.  Transformer: training sequences come from text[0, train_len), the held-out
 * ones from [train_len, len).  DLRM: batches are drawn from the teacher.  The held-out set is fixed. */
typedef struct data {
  int dlrm;
  const uint8_t *text;
  size_t len, train_len;
  teacher t;
  int eval_n;
  uint8_t *ev_tok; /* [eval_n][seq + 1] */
  double *ev_dense, *ev_label;
  int *ev_idx;
} data;

/* A batch of either model: n items from item `from` of a set. */
typedef struct batch {
  uint8_t *tok;
  double *dense, *label;
  int *idx;
} batch;

/* The reference run: the first in fp32 with fp32 accumulation, else the first. */
static int reference_run(const nm_experiment *ex) {
  for (int r = 0; r < ex->n_runs; r++)
    if (ex->runs[r].prec.fwd.in == NM_FP32 && ex->runs[r].prec.fwd.acc == NM_FP32) return r;
  return 0;
}

/* One model of either kind. */
typedef struct net {
  nm_tf *tf;
  nm_dlrm *dl;
} net;

static int net_new(const nm_experiment *ex, uint64_t seed, net *n) {
  n->tf = ex->dlrm ? NULL : nm_tf_new(&ex->model, seed);
  n->dl = ex->dlrm ? nm_dlrm_new(&ex->dlrm_cfg, seed) : NULL;
  return n->tf || n->dl ? 0 : -1;
}

static void net_free(net *n) {
  nm_tf_free(n->tf);
  nm_dlrm_free(n->dl);
}

static size_t net_params(net *n, nm_param **pt) {
  return n->tf ? nm_tf_params(n->tf, pt) : nm_dlrm_params(n->dl, pt);
}

/* Loss of items [from, from + count) of the batch b; with grad, the gradients. */
static double net_loss(const nm_experiment *ex, net *n, const nm_prec *p, const batch *b, int from, int count,
                       int grad) {
  if (n->tf) {
    const size_t L = (size_t)ex->model.seq + 1;
    return nm_tf_step(n->tf, p, b->tok + (size_t)from * L, count, grad, NULL);
  }
  const nm_dlrm_cfg *c = &ex->dlrm_cfg;
  return nm_dlrm_step(n->dl, p, b->dense + (size_t)from * c->dense,
                      b->idx + (size_t)from * c->tables * c->pooling, b->label + from, count, grad);
}

/* 1 when the last net_loss ran out of memory (its NaN is then no divergence). */
static int net_oom(const net *n) {
  return n->tf ? nm_tf_oom(n->tf) : nm_dlrm_oom(n->dl);
}

/* The mean loss over n held-out items, scored in groups of at most a training batch (so that the
 * scratch memory stays a training step's), each group weighted by its size.  *oom set when a group
 * ran out of memory. */
static double eval_loss(const nm_experiment *ex, net *m, const nm_prec *p, const batch *ev, int n, int *oom) {
  double sum = 0;
  for (int s0 = 0; s0 < n; s0 += ex->batch) {
    int g = n - s0 < ex->batch ? n - s0 : ex->batch;
    sum += g * net_loss(ex, m, p, ev, s0, g, 0);
    if (net_oom(m)) {
      *oom = 1;
      return NAN;
    }
  }
  return n > 0 ? sum / n : NAN;
}

static void net_update(const nm_experiment *ex, net *n, int step, nm_fmt vec) {
  nm_adamw opt = ex->opt;
  opt.lr = lr_at(ex, step);
  if (n->tf)
    nm_tf_adamw(n->tf, &opt, step, vec);
  else
    nm_dlrm_update(n->dl, &opt, ex->adagrad_lr, step, vec);
}

/* The run's arithmetic against fp32 at the same weights (see nm_outcome.fixed_*): the n held-out
 * items in groups of B (a training step's shape, so the products have the training's K), each
 * group's loss and gradients in p and in fp32; the mean losses and sqrt(sum ||g_p - g_fp32||^2 /
 * sum ||g_fp32||^2) over the groups and all parameters.  -1 when out of memory. */
static int fixed_weights_check(const nm_experiment *ex, net *m, const nm_prec *p, const batch *ev, int n,
                               double *loss_p, double *loss_32, double *grad_err) {
  const nm_prec p32 = nm_prec_uniform(NM_FP32, NM_FP32, 32);
  const int B = ex->batch;
  nm_param *pt;
  size_t np = net_params(m, &pt), total = 0;
  for (size_t i = 0; i < np; i++)
    total += pt[i].n;
  double *g = malloc((total ? total : 1) * sizeof *g);
  if (!g) return -1;
  double d2 = 0, r2 = 0, lp = 0, l32 = 0;
  int groups = 0;
  for (int s0 = 0; s0 + B <= n; s0 += B, groups++) {
    lp += net_loss(ex, m, p, ev, s0, B, 1);
    if (net_oom(m)) break;
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
      for (size_t j = 0; j < pt[i].n; j++)
        g[k++] = pt[i].g[j];
    l32 += net_loss(ex, m, &p32, ev, s0, B, 1);
    if (net_oom(m)) break;
    k = 0;
    for (size_t i = 0; i < np; i++)
      for (size_t j = 0; j < pt[i].n; j++, k++) {
        d2 += (g[k] - pt[i].g[j]) * (g[k] - pt[i].g[j]);
        r2 += pt[i].g[j] * pt[i].g[j];
      }
  }
  free(g);
  if (net_oom(m)) return -1;
  *loss_p = groups ? lp / groups : NAN;
  *loss_32 = groups ? l32 / groups : NAN;
  *grad_err = r2 > 0 ? sqrt(d2 / r2) : 0;
  return 0;
}

/* Trains one model with precision p from seed; loss[steps] (may be NULL), eval[n_eval] at the
 * outcome's evaluation steps, *seconds of host time; with fixed (3 doubles, may be NULL) the
 * fixed-weights check at the end.  0, or -1 when out of memory. */
static int train_one(const nm_experiment *ex, const nm_prec *p, uint64_t seed, const data *d,
                     const nm_outcome *o, double *loss, double *eval, double *seconds, double *fixed) {
  const int B = ex->batch, T = ex->model.seq;
  const nm_dlrm_cfg *c = &ex->dlrm_cfg;
  net m;
  batch b = {0};
  int bad = net_new(ex, seed, &m);
  if (ex->dlrm) {
    b.dense = malloc((size_t)B * c->dense * sizeof *b.dense);
    b.idx = malloc((size_t)B * c->tables * c->pooling * sizeof *b.idx);
    b.label = malloc((size_t)B * sizeof *b.label);
    bad = bad || !b.dense || !b.idx || !b.label;
  } else {
    bad = bad || !(b.tok = malloc((size_t)B * (T + 1)));
  }
  const batch ev = {d->ev_tok, d->ev_dense, d->ev_label, d->ev_idx};
  const nm_prec p32 = nm_prec_uniform(NM_FP32, NM_FP32, 32);
  uint64_t rng = seed ^ 0x5eed5eedull; /* the same batches for every run of one seed */
  clock_t t0 = clock();
  int k = 0, dead = 0;
  for (int step = 1; step <= ex->steps && !bad; step++) {
    core_progress("numerics: training steps", step, ex->steps);
    double l = NAN;
    if (!dead) {
      if (ex->dlrm) {
        teacher_draw(&d->t, &rng, B, b.dense, b.idx, b.label);
      } else {
        for (int i = 0; i < B; i++) {
          size_t off = (size_t)(nm_rand_u64(&rng) % (d->train_len - (size_t)T - 1));
          memcpy(b.tok + (size_t)i * (T + 1), d->text + off, (size_t)T + 1);
        }
      }
      l = net_loss(ex, &m, p, &b, 0, B, 1);
      if (net_oom(&m)) {
        bad = 1;
        break;
      }
      if (isnan(l)) dead = 1; /* diverged: the rest of the curve stays NaN */
    }
    if (loss) loss[step - 1] = l;
    if (!dead) net_update(ex, &m, step, p->vec);
    if (k < o->n_eval && o->eval_step[k] == step)
      eval[k++] = dead ? NAN : eval_loss(ex, &m, &p32, &ev, d->eval_n, &bad);
  }
  *seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
  if (!bad && fixed && o->fixed_n > 0 && !dead)
    bad = fixed_weights_check(ex, &m, p, &ev, o->fixed_n, &fixed[0], &fixed[1], &fixed[2]) != 0;
  net_free(&m);
  free(b.tok);
  free(b.dense);
  free(b.idx);
  free(b.label);
  return bad ? -1 : 0;
}

/* Reads the corpus (transformer) or builds the teacher (DLRM), and the held-out set. */
static sl_status data_init(arena *a, const nm_experiment *ex, nm_outcome *out, data *d, char **text,
                           sl_error *err) {
  memset(d, 0, sizeof *d);
  d->dlrm = ex->dlrm;
  const int T = ex->model.seq;
  uint64_t erng = 0xe7a15eedull; /* the same held-out set whatever the seed */
  if (ex->dlrm) {
    const nm_dlrm_cfg *c = &ex->dlrm_cfg;
    if (teacher_init(&d->t, c, ex->zipf) != 0)
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    out->corpus_used = "synthetic clicks (docs/numerics.md)";
    if (ex->eval_every > 0 && ex->eval_sequences > 0) {
      d->eval_n = ex->eval_sequences;
      d->ev_dense = malloc((size_t)d->eval_n * c->dense * sizeof *d->ev_dense);
      d->ev_idx = malloc((size_t)d->eval_n * c->tables * c->pooling * sizeof *d->ev_idx);
      d->ev_label = malloc((size_t)d->eval_n * sizeof *d->ev_label);
      if (!d->ev_dense || !d->ev_idx || !d->ev_label)
        return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      teacher_draw(&d->t, &erng, d->eval_n, d->ev_dense, d->ev_idx, d->ev_label);
    }
    return SL_OK;
  }
  size_t len = 0;
  const char *src = ex->corpus ? ex->corpus : NM_CORPUS_DIR;
  int rc = load_corpus(src, text, &len);
  if (rc == CORPUS_OOM)
    return err_set(err, SL_ERR_INTERNAL, src, 0, "corpus", "out of memory reading the corpus");
  if (rc != 0 || len < (size_t)T + 2) {
    if (ex->corpus)
      return err_set(err, SL_ERR_INPUT, ex->corpus, 0, "corpus", "cannot read a corpus of at least %d bytes",
                     T + 2);
    free(*text);
    *text = NULL;
    out->corpus_builtin = 1;
    out->corpus_used = "built-in text (" NM_CORPUS_DIR " is missing: apt-get install fortunes-min)";
    len = sizeof BUILTIN_TEXT - 1;
  } else if (!(out->corpus_used = ar_strdup(a, src))) {
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  d->text = out->corpus_builtin ? (const uint8_t *)BUILTIN_TEXT : (const uint8_t *)*text;
  d->len = d->train_len = len;
  out->corpus_bytes = len;
  /* hold out the last tenth when both parts can hold a sequence */
  size_t hold = len / 10;
  if (ex->eval_every > 0 && ex->eval_sequences > 0 && hold >= (size_t)T + 2 && len - hold >= (size_t)T + 2) {
    d->train_len = len - hold;
    d->eval_n = ex->eval_sequences;
    if (!(d->ev_tok = malloc((size_t)d->eval_n * (T + 1))))
      return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (int i = 0; i < d->eval_n; i++) {
      size_t off = d->train_len + (size_t)(nm_rand_u64(&erng) % (hold - (size_t)T - 1));
      memcpy(d->ev_tok + (size_t)i * (T + 1), d->text + off, (size_t)T + 1);
    }
  }
  return SL_OK;
}

static void data_free(data *d) {
  if (d->dlrm) teacher_free(&d->t);
  free(d->ev_tok);
  free(d->ev_dense);
  free(d->ev_idx);
  free(d->ev_label);
}

sl_status nm_experiment_run(arena *a, const nm_experiment *ex, nm_outcome *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  char *text = NULL;
  data d;
  sl_status s = data_init(a, ex, out, &d, &text, err);
  if (!s && d.eval_n) {
    int n = ex->steps / ex->eval_every + (ex->steps % ex->eval_every != 0);
    out->eval_step = ar_alloc(a, (size_t)n * sizeof *out->eval_step);
    for (int k = 0; out->eval_step && k < n; k++)
      out->eval_step[k] = (k + 1) * ex->eval_every < ex->steps ? (k + 1) * ex->eval_every : ex->steps;
    out->n_eval = n;
    out->fixed_n = d.eval_n / ex->batch * ex->batch; /* whole training-sized groups */
    out->eval_loss = ar_alloc(a, (size_t)ex->n_runs * n * sizeof *out->eval_loss);
    if (!out->eval_step || !out->eval_loss) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  out->loss = s ? NULL : ar_alloc(a, (size_t)ex->n_runs * ex->steps * sizeof *out->loss);
  if (!s && !out->loss) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  out->params = ex->dlrm ? nm_dlrm_count(&ex->dlrm_cfg) : nm_tf_count(&ex->model);
  out->ref_run = reference_run(ex);
  for (int r = 0; r < ex->n_runs && !s; r++) {
    double *ev = out->n_eval ? out->eval_loss + (size_t)r * out->n_eval : NULL, fx[3] = {NAN, NAN, NAN};
    if (train_one(ex, &ex->runs[r].prec, ex->seed, &d, out, out->loss + (size_t)r * ex->steps, ev,
                  &out->seconds[r], fx) != 0) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      break;
    }
    int tail = ex->steps / 10 > 0 ? ex->steps / 10 : 1;
    double sum = 0;
    for (int k = ex->steps - tail; k < ex->steps; k++)
      sum += out->loss[(size_t)r * ex->steps + k];
    out->final_loss[r] = sum / tail;
    out->final_eval[r] = ev ? ev[out->n_eval - 1] : NAN;
    out->fixed_loss_fmt[r] = fx[0], out->fixed_loss_fp32[r] = fx[1], out->fixed_grad_err[r] = fx[2];
  }
  /* seed noise of the reference run's final evaluation loss */
  if (!s && out->n_eval && ex->noise_seeds > 1) {
    double *ev = ar_alloc(a, (size_t)out->n_eval * sizeof *ev), sec;
    out->noise_eval[0] = out->final_eval[out->ref_run];
    for (int k = 1; k < ex->noise_seeds && ev && !s; k++) {
      if (train_one(ex, &ex->runs[out->ref_run].prec, ex->seed + (uint64_t)k, &d, out, NULL, ev, &sec,
                    NULL) != 0)
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      out->noise_eval[k] = ev[out->n_eval - 1];
    }
    if (!ev) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    if (!s) {
      out->n_noise = ex->noise_seeds;
      double m = 0, v = 0;
      for (int k = 0; k < out->n_noise; k++)
        m += out->noise_eval[k];
      m /= out->n_noise;
      for (int k = 0; k < out->n_noise; k++)
        v += (out->noise_eval[k] - m) * (out->noise_eval[k] - m);
      out->noise_mean = m;
      out->noise_sd = sqrt(v / (out->n_noise - 1));
    }
  }
  data_free(&d);
  free(text);
  if (!s && ex->chip) s = chip_estimate(ex, out->params, out, err);
  return s;
}
