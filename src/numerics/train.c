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
  sl_status s = yt_parse_file(a, path, &root, err);
  if (s) return s;
  reader rd = {err, a, ""}, *r = &rd;
  if ((s = rd_map(r, root))) return s;
  long kchunk = 32;
  if ((s = rd_int(r, root, "kchunk", 0, 1, 4096, &kchunk))) return s;
  if ((s = rd_string(r, root, "corpus", 0, &ex->corpus))) return s;
  if ((s = rd_string(r, root, "chip", 0, &ex->chip))) return s;
  yt_node *mo = yt_get(root, "model");
  if (mo) {
    rd_mark mk = rd_push(r, "model");
    long v[6] = {ex->model.dim, ex->model.layers, ex->model.heads, ex->model.kv_heads, ex->model.ffn, ex->model.seq};
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
      return rd_fail(r, mo, "dim must be a multiple of heads with an even head size, heads a multiple of kv_heads");
    rd_pop(r, mk);
  }
  yt_node *tr = yt_get(root, "train");
  if (tr) {
    rd_mark mk = rd_push(r, "train");
    long steps = ex->steps, batch = ex->batch, seed = (long)ex->seed, every = -1, nseq = ex->eval_sequences,
         noise = ex->noise_seeds;
    if ((s = rd_map(r, tr)) || (s = rd_int(r, tr, "steps", 0, 1, 1000000, &steps)) ||
        (s = rd_int(r, tr, "batch", 0, 1, 512, &batch)) || (s = rd_int(r, tr, "seed", 0, 0, 1L << 40, &seed)) ||
        (s = rd_int(r, tr, "eval_every", 0, 0, 1000000, &every)) ||
        (s = rd_int(r, tr, "eval_sequences", 0, 0, 256, &nseq)) ||
        (s = rd_int(r, tr, "noise_seeds", 0, 1, NM_MAX_NOISE_SEEDS, &noise)) ||
        (s = rd_double(r, tr, "lr", 0, 0, 1, &ex->opt.lr)) ||
        (s = rd_double(r, tr, "warmup_steps", 0, 0, 1e6, &ex->warmup_steps)) ||
        (s = rd_double(r, tr, "weight_decay", 0, 0, 1, &ex->opt.weight_decay)) ||
        (s = rd_double(r, tr, "beta1", 0, 0, 0.9999, &ex->opt.beta1)) ||
        (s = rd_double(r, tr, "beta2", 0, 0, 0.999999, &ex->opt.beta2)) || (s = rd_done(r, tr)))
      return s;
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
  if ((long)ex->batch * ex->model.seq > 512)
    return rd_fail(r, tr ? tr : root, "train.batch x model.seq = %ld tokens per step; at most 512",
                   (long)ex->batch * ex->model.seq);
  yt_node *runs = yt_get(root, "runs");
  rd_mark mr = rd_push(r, "runs");
  if (!runs || runs->type != YT_SEQ || runs->n == 0) return rd_fail(r, runs ? runs : root, "expected a list of runs");
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
  nm_tf *m = nm_tf_new(&ex->model, 1);
  if (!m) return err_set(err, SL_ERR_INTERNAL, path, 0, "model", "out of memory");
  size_t np = nm_tf_nparams(m);
  nm_tf_free(m);
  if (np > 2000000) return err_set(err, SL_ERR_INPUT, path, mo ? mo->line : 0, "model", "%zu parameters; at most 2M", np);
  return SL_OK;
}

/* Appends the file at path to buf (NUL-terminated, *len bytes).  -1 on failure. */
static int slurp(const char *path, char **buf, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  char chunk[65536];
  size_t k;
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
    char *p = realloc(*buf, *len + k + 1);
    if (!p) {
      fclose(f);
      return -1;
    }
    *buf = p;
    memcpy(*buf + *len, chunk, k);
    *len += k;
    (*buf)[*len] = 0;
  }
  fclose(f);
  return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The corpus: a file, or every plain fortune file of a directory (names without a dot: not the
 * .dat indexes or .u8 links), in name order. */
static int load_corpus(const char *path, char **buf, size_t *len) {
  struct stat st;
  if (stat(path, &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) return slurp(path, buf, len);
  DIR *d = opendir(path);
  if (!d) return -1;
  char *names[256];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < SL_ARRAY_LEN(names))
    if (e->d_name[0] != '.' && !strchr(e->d_name, '.')) {
      size_t l = strlen(path) + strlen(e->d_name) + 2;
      if (!(names[n] = malloc(l))) break;
      snprintf(names[n++], l, "%s/%s", path, e->d_name);
    }
  closedir(d);
  qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) slurp(names[i], buf, len);
    free(names[i]);
  }
  return *len > 0 ? 0 : -1;
}

static double lr_at(const nm_experiment *ex, int step) { /* linear warm-up, cosine to 10% */
  if (step <= ex->warmup_steps) return ex->opt.lr * step / (ex->warmup_steps > 0 ? ex->warmup_steps : 1);
  double t = (step - ex->warmup_steps) / fmax(1, ex->steps - ex->warmup_steps);
  return ex->opt.lr * (0.1 + 0.45 * (1 + cos(3.141592653589793 * t)));
}

/* What the chip would take: one training step of the same shape with the performance model. */
static void chip_estimate(const nm_experiment *ex, size_t params, nm_outcome *out) {
  const nm_tf_cfg *c = &ex->model;
  char text[1024];
  snprintf(text, sizeof text,
           "{chip: \"%s\", task: train, precision: bf16, model: {name: numerics, transformer: {hidden: %d, "
           "layers: %d, heads: %d, kv_heads: %d, ffn: %d, vocab: %d, activation: swiglu, norm: rmsnorm, "
           "position: rope, tied_embeddings: %s, max_context: %d}}, train: {seq_len: %d, global_batch: %d, "
           "micro_batch: %d}}",
           ex->chip, c->dim, c->layers, c->heads, c->kv_heads, c->ffn, c->vocab, c->tied ? "true" : "false", c->seq,
           c->seq, ex->batch, ex->batch);
  (void)params;
  sl_scenario *sc = NULL;
  sl_result *res = NULL;
  sl_error e;
  memset(&e, 0, sizeof e);
  if (sl_scenario_load(NULL, text, NULL, 0, &sc, &e) == SL_OK && sl_scenario_run(sc, &res, &e) == SL_OK) {
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
}

/* The text both runs read: training samples come from [0, train_len), the held-out sequences
 * from [train_len, len). */
typedef struct corpus_view {
  const uint8_t *text;
  size_t len, train_len;
  const uint8_t *eval; /* [eval_n][seq + 1] */
  int eval_n;
} corpus_view;

/* The reference run: the first in fp32 with fp32 accumulation, else the first. */
static int reference_run(const nm_experiment *ex) {
  for (int r = 0; r < ex->n_runs; r++)
    if (ex->runs[r].prec.fwd.in == NM_FP32 && ex->runs[r].prec.fwd.acc == NM_FP32) return r;
  return 0;
}

/* The run's arithmetic against fp32 at the same weights (see nm_outcome.fixed_*): the n sequences
 * in groups of B (a training step's shape, so the products have the training's K), each group's
 * loss and gradients in p and in fp32; the mean losses and sqrt(sum ||g_p - g_fp32||^2 / sum
 * ||g_fp32||^2) over the groups and all parameters.  -1 when out of memory. */
static int fixed_weights_check(nm_tf *m, const nm_prec *p, const uint8_t *tokens, int n, int B, int T,
                               double *loss_p, double *loss_32, double *grad_err) {
  const nm_prec p32 = nm_prec_uniform(NM_FP32, NM_FP32, 32);
  nm_param *pt;
  size_t np = nm_tf_params(m, &pt), total = nm_tf_nparams(m);
  double *g = malloc((total ? total : 1) * sizeof *g);
  if (!g) return -1;
  double d2 = 0, r2 = 0, lp = 0, l32 = 0;
  int groups = 0;
  for (int s0 = 0; s0 + B <= n; s0 += B, groups++) {
    const uint8_t *tk = tokens + (size_t)s0 * (size_t)(T + 1);
    lp += nm_tf_step(m, p, tk, B, 1, NULL);
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
      for (size_t j = 0; j < pt[i].n; j++) g[k++] = pt[i].g[j];
    l32 += nm_tf_step(m, &p32, tk, B, 1, NULL);
    k = 0;
    for (size_t i = 0; i < np; i++)
      for (size_t j = 0; j < pt[i].n; j++, k++) {
        d2 += (g[k] - pt[i].g[j]) * (g[k] - pt[i].g[j]);
        r2 += pt[i].g[j] * pt[i].g[j];
      }
  }
  free(g);
  *loss_p = groups ? lp / groups : NAN;
  *loss_32 = groups ? l32 / groups : NAN;
  *grad_err = r2 > 0 ? sqrt(d2 / r2) : 0;
  return 0;
}

/* Trains one model with precision p from seed; loss[steps] (may be NULL), eval[n_eval] at the
 * outcome's evaluation steps, *seconds of host time; with fixed (3 doubles, may be NULL) the
 * fixed-weights check at the end.  0, or -1 when out of memory. */
static int train_one(const nm_experiment *ex, const nm_prec *p, uint64_t seed, const corpus_view *cv,
                     const nm_outcome *o, double *loss, double *eval, double *seconds, double *fixed) {
  const int T = ex->model.seq, B = ex->batch;
  nm_tf *m = nm_tf_new(&ex->model, seed);
  uint8_t *tokens = malloc((size_t)B * (T + 1));
  if (!m || !tokens) {
    nm_tf_free(m);
    free(tokens);
    return -1;
  }
  const nm_prec p32 = nm_prec_uniform(NM_FP32, NM_FP32, 32);
  uint64_t rng = seed ^ 0x5eed5eedull; /* the same batches for every run of one seed */
  clock_t t0 = clock();
  int ev = 0, dead = 0;
  for (int step = 1; step <= ex->steps; step++) {
    double l = NAN;
    if (!dead) {
      for (int b = 0; b < B; b++) {
        size_t off = (size_t)(nm_rand_u64(&rng) % (cv->train_len - (size_t)T - 1));
        memcpy(tokens + (size_t)b * (T + 1), cv->text + off, (size_t)T + 1);
      }
      l = nm_tf_step(m, p, tokens, B, 1, NULL);
      if (isnan(l)) dead = 1; /* diverged or out of memory: the rest of the curve stays NaN */
    }
    if (loss) loss[step - 1] = l;
    if (!dead) {
      nm_adamw opt = ex->opt;
      opt.lr = lr_at(ex, step);
      nm_tf_adamw(m, &opt, step, p->vec);
    }
    if (ev < o->n_eval && o->eval_step[ev] == step)
      eval[ev++] = dead ? NAN : nm_tf_step(m, &p32, cv->eval, cv->eval_n, 0, NULL);
  }
  *seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
  int rc = 0;
  if (fixed && o->fixed_n > 0 && !dead)
    rc = fixed_weights_check(m, p, cv->eval, o->fixed_n, B, T, &fixed[0], &fixed[1], &fixed[2]);
  nm_tf_free(m);
  free(tokens);
  return rc;
}

sl_status nm_experiment_run(arena *a, const nm_experiment *ex, nm_outcome *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  char *text = NULL;
  size_t len = 0;
  const char *src = ex->corpus ? ex->corpus : NM_CORPUS_DIR;
  const int T = ex->model.seq;
  if (load_corpus(src, &text, &len) != 0 || len < (size_t)T + 2) {
    if (ex->corpus) {
      free(text);
      return err_set(err, SL_ERR_INPUT, ex->corpus, 0, "corpus", "cannot read a corpus of at least %d bytes",
                     T + 2);
    }
    free(text);
    text = NULL;
    out->corpus_builtin = 1;
    out->corpus_used = "built-in text (" NM_CORPUS_DIR " is missing: apt-get install fortunes-min)";
    len = sizeof BUILTIN_TEXT - 1;
  } else {
    out->corpus_used = ar_strdup(a, src);
  }
  corpus_view cv = {out->corpus_builtin ? (const uint8_t *)BUILTIN_TEXT : (const uint8_t *)text, len, len, NULL, 0};
  out->corpus_bytes = len;
  /* hold out the last tenth when both parts can hold a sequence */
  size_t hold = len / 10;
  uint8_t *evtok = NULL;
  if (ex->eval_every > 0 && ex->eval_sequences > 0 && hold >= (size_t)T + 2 && len - hold >= (size_t)T + 2) {
    cv.train_len = len - hold;
    cv.eval_n = ex->eval_sequences;
    evtok = malloc((size_t)cv.eval_n * (T + 1));
    uint64_t erng = 0xe7a15eedull; /* the same held-out sequences whatever the seed */
    for (int i = 0; evtok && i < cv.eval_n; i++) {
      size_t off = cv.train_len + (size_t)(nm_rand_u64(&erng) % (hold - (size_t)T - 1));
      memcpy(evtok + (size_t)i * (T + 1), cv.text + off, (size_t)T + 1);
    }
    cv.eval = evtok;
    int n = ex->steps / ex->eval_every + (ex->steps % ex->eval_every != 0);
    out->eval_step = ar_alloc(a, (size_t)n * sizeof *out->eval_step);
    for (int k = 0; out->eval_step && k < n; k++)
      out->eval_step[k] = (k + 1) * ex->eval_every < ex->steps ? (k + 1) * ex->eval_every : ex->steps;
    out->n_eval = n;
    out->fixed_n = cv.eval_n / ex->batch * ex->batch; /* whole training-sized groups */
    out->eval_loss = ar_alloc(a, (size_t)ex->n_runs * n * sizeof *out->eval_loss);
  }
  out->loss = ar_alloc(a, (size_t)ex->n_runs * ex->steps * sizeof *out->loss);
  sl_status s = SL_OK;
  if (!out->loss || (cv.eval_n && (!evtok || !out->eval_step || !out->eval_loss)))
    s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  {
    nm_tf *m = s ? NULL : nm_tf_new(&ex->model, ex->seed);
    if (m) out->params = nm_tf_nparams(m);
    nm_tf_free(m);
  }
  out->ref_run = reference_run(ex);
  for (int r = 0; r < ex->n_runs && !s; r++) {
    double *ev = out->n_eval ? out->eval_loss + (size_t)r * out->n_eval : NULL, fx[3] = {NAN, NAN, NAN};
    if (train_one(ex, &ex->runs[r].prec, ex->seed, &cv, out, out->loss + (size_t)r * ex->steps, ev,
                  &out->seconds[r], fx) != 0) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      break;
    }
    int tail = ex->steps / 10 > 0 ? ex->steps / 10 : 1;
    double sum = 0;
    for (int k = ex->steps - tail; k < ex->steps; k++) sum += out->loss[(size_t)r * ex->steps + k];
    out->final_loss[r] = sum / tail;
    out->final_eval[r] = ev ? ev[out->n_eval - 1] : NAN;
    out->fixed_loss_fmt[r] = fx[0], out->fixed_loss_fp32[r] = fx[1], out->fixed_grad_err[r] = fx[2];
  }
  /* seed noise of the reference run's final evaluation loss */
  if (!s && out->n_eval && ex->noise_seeds > 1) {
    double *ev = ar_alloc(a, (size_t)out->n_eval * sizeof *ev), sec;
    out->noise_eval[0] = out->final_eval[out->ref_run];
    for (int k = 1; k < ex->noise_seeds && ev && !s; k++) {
      if (train_one(ex, &ex->runs[out->ref_run].prec, ex->seed + (uint64_t)k, &cv, out, NULL, ev, &sec, NULL) != 0)
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      out->noise_eval[k] = ev[out->n_eval - 1];
    }
    if (!ev) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    if (!s) {
      out->n_noise = ex->noise_seeds;
      double m = 0, v = 0;
      for (int k = 0; k < out->n_noise; k++) m += out->noise_eval[k];
      m /= out->n_noise;
      for (int k = 0; k < out->n_noise; k++) v += (out->noise_eval[k] - m) * (out->noise_eval[k] - m);
      out->noise_mean = m;
      out->noise_sd = sqrt(v / (out->n_noise - 1));
    }
  }
  free(evtok);
  free(text);
  if (!s && ex->chip) chip_estimate(ex, out->params, out);
  return s;
}
