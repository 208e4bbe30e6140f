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
    long steps = ex->steps, batch = ex->batch, seed = (long)ex->seed, every = 0;
    if ((s = rd_map(r, tr)) || (s = rd_int(r, tr, "steps", 0, 1, 1000000, &steps)) ||
        (s = rd_int(r, tr, "batch", 0, 1, 512, &batch)) || (s = rd_int(r, tr, "seed", 0, 0, 1L << 40, &seed)) ||
        (s = rd_int(r, tr, "print_every", 0, 0, 1000000, &every)) ||
        (s = rd_double(r, tr, "lr", 0, 0, 1, &ex->opt.lr)) ||
        (s = rd_double(r, tr, "warmup_steps", 0, 0, 1e6, &ex->warmup_steps)) ||
        (s = rd_double(r, tr, "weight_decay", 0, 0, 1, &ex->opt.weight_decay)) ||
        (s = rd_double(r, tr, "beta1", 0, 0, 0.9999, &ex->opt.beta1)) ||
        (s = rd_double(r, tr, "beta2", 0, 0, 0.999999, &ex->opt.beta2)) || (s = rd_done(r, tr)))
      return s;
    ex->steps = (int)steps;
    ex->batch = (int)batch;
    ex->seed = (uint64_t)seed;
    ex->eval_every = (int)every;
    rd_pop(r, mk);
  }
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

sl_status nm_experiment_run(arena *a, const nm_experiment *ex, nm_outcome *out, sl_error *err) {
  memset(out, 0, sizeof *out);
  char *text = NULL;
  size_t len = 0;
  const char *src = ex->corpus ? ex->corpus : NM_CORPUS_DIR;
  if (load_corpus(src, &text, &len) != 0 || len < (size_t)ex->model.seq + 2) {
    if (ex->corpus) {
      free(text);
      return err_set(err, SL_ERR_INPUT, ex->corpus, 0, "corpus", "cannot read a corpus of at least %d bytes",
                     ex->model.seq + 2);
    }
    free(text);
    text = NULL;
    out->corpus_builtin = 1;
    out->corpus_used = "built-in text (" NM_CORPUS_DIR " is missing: apt-get install fortunes-min)";
    len = sizeof BUILTIN_TEXT - 1;
  } else {
    out->corpus_used = ar_strdup(a, src);
  }
  const uint8_t *corpus = out->corpus_builtin ? (const uint8_t *)BUILTIN_TEXT : (const uint8_t *)text;
  out->corpus_bytes = len;
  const int T = ex->model.seq, B = ex->batch;
  out->loss = ar_alloc(a, (size_t)ex->n_runs * ex->steps * sizeof *out->loss);
  uint8_t *tokens = malloc((size_t)B * (T + 1));
  sl_status s = SL_OK;
  if (!out->loss || !tokens) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  for (int r = 0; r < ex->n_runs && !s; r++) {
    const nm_prec *p = &ex->runs[r].prec;
    nm_tf *m = nm_tf_new(&ex->model, ex->seed);
    if (!m) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
      break;
    }
    out->params = nm_tf_nparams(m);
    uint64_t rng = ex->seed ^ 0x5eed5eedull; /* the same batches for every run */
    clock_t t0 = clock();
    for (int step = 1; step <= ex->steps; step++) {
      for (int b = 0; b < B; b++) {
        size_t off = (size_t)(nm_rand_u64(&rng) % (len - (size_t)T - 1));
        memcpy(tokens + (size_t)b * (T + 1), corpus + off, (size_t)T + 1);
      }
      double loss = nm_tf_step(m, p, tokens, B, 1, NULL);
      out->loss[(size_t)r * ex->steps + step - 1] = loss;
      if (isnan(loss) && m) { /* diverged or out of memory: the rest of the curve stays NaN */
        for (int k = step; k < ex->steps; k++) out->loss[(size_t)r * ex->steps + k] = NAN;
        break;
      }
      nm_adamw o = ex->opt;
      o.lr = lr_at(ex, step);
      nm_tf_adamw(m, &o, step, p->vec);
    }
    out->seconds[r] = (double)(clock() - t0) / CLOCKS_PER_SEC;
    int tail = ex->steps / 10 > 0 ? ex->steps / 10 : 1;
    double sum = 0;
    for (int k = ex->steps - tail; k < ex->steps; k++) sum += out->loss[(size_t)r * ex->steps + k];
    out->final_loss[r] = sum / tail;
    nm_tf_free(m);
  }
  free(tokens);
  free(text);
  if (!s && ex->chip) chip_estimate(ex, out->params, out);
  return s;
}
