/* api.c — the public face of sweeps (include/silica.h "Sweeps"): opaque handles over dse_sweep and
 * dse_worker, the run with its report, and batches of points as plain bytes so that another process
 * (an MPI rank) can evaluate them.  No modelling here. */
#include "dse/dse.h"

#include <string.h>

struct sl_sweep {
  dse_sweep *sw;
};

/* own: the worker of a handle from sl_sweep_worker_new; wk points at it, or at the worker dse_run
 * lends a batch hook. */
struct sl_sweep_worker {
  dse_worker *wk;
  dse_worker own;
};

/* What a point needs to be evaluated elsewhere: its index and its parameters' value indices. */
typedef struct sweep_ask {
  long idx;
  int vi[DSE_MAX_PARAMS];
} sweep_ask;

sl_status sl_sweep_load(const char *path, const char *text, sl_sweep **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_sweep_load: out is NULL");
  *out = NULL;
  if (!path && !text) return err_set(err, SL_ERR_INPUT, "", 0, "", "sweep: no file or text given");
  sl_sweep *h = calloc(1, sizeof *h);
  if (!h) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  sl_status s = dse_sweep_load(path, text, &h->sw, err);
  if (s) {
    free(h);
    return s;
  }
  *out = h;
  return SL_OK;
}

void sl_sweep_free(sl_sweep *sw) {
  if (!sw) return;
  dse_sweep_free(sw->sw);
  free(sw);
}

sl_status sl_sweep_check_points(const sl_sweep *h, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!h) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_sweep_check_points: no sweep");
  const dse_sweep *sw = h->sw;
  int first[DSE_MAX_PARAMS] = {0}, last[DSE_MAX_PARAMS] = {0};
  for (int j = 0; j < sw->n_params; j++)
    last[j] = sw->params[j].n - 1;
  sl_chip c;
  double up = 0, out = 0;
  dse_apply(sw, first, &c, &up, &out);
  dse_apply(sw, last, &c, &up, &out);
  return SL_OK;
}

size_t sl_sweep_point_size(void) {
  return sizeof(dse_point);
}

size_t sl_sweep_ask_size(void) {
  return sizeof(sweep_ask);
}

void sl_sweep_asks_get(const void *points, void *asks, size_t n) {
  const dse_point *p = points;
  sweep_ask *q = asks;
  for (size_t i = 0; i < n; i++) {
    q[i].idx = p[i].idx;
    memcpy(q[i].vi, p[i].vi, sizeof q[i].vi);
  }
}

void sl_sweep_asks_put(const void *asks, void *points, size_t n) {
  const sweep_ask *q = asks;
  dse_point *p = points;
  for (size_t i = 0; i < n; i++) {
    memset(&p[i], 0, sizeof p[i]);
    p[i].idx = q[i].idx;
    memcpy(p[i].vi, q[i].vi, sizeof p[i].vi);
  }
}

sl_status sl_sweep_worker_new(const sl_sweep *sw, sl_sweep_worker **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out || !sw) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_sweep_worker_new: no sweep or out");
  *out = NULL;
  sl_sweep_worker *w = calloc(1, sizeof *w);
  if (!w) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  dse_worker_init(&w->own, sw->sw);
  w->wk = &w->own;
  *out = w;
  return SL_OK;
}

void sl_sweep_worker_free(sl_sweep_worker *w) {
  if (!w) return;
  if (w->wk == &w->own) dse_worker_free(&w->own);
  free(w);
}

sl_status sl_sweep_worker_eval(sl_sweep_worker *w, void *points, size_t n, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!w || (n && !points))
    return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_sweep_worker_eval: no worker");
  dse_point *p = points;
  for (size_t i = 0; i < n; i++) {
    sl_status s = dse_eval(w->wk, &p[i]);
    if (s) {
      if (err) *err = w->wk->err;
      if (err && err->code == SL_OK) err->code = s;
      return s;
    }
  }
  return SL_OK;
}

sl_sweep_params sl_sweep_params_default(void) {
  sl_sweep_params p;
  memset(&p, 0, sizeof p);
  p.jobs = 1;
  return p;
}

/* The public hooks seen through dse_run's. */
static void progress_hook(void *ud, const dse_progress *d) {
  const sl_sweep_params *p = ud;
  sl_sweep_progress q = {d->done, d->total, d->feasible, d->rate_per_s, d->eta_s, d->best};
  p->progress(p->progress_ud, &q);
}

static void begin_hook(void *ud, dse_point *pts, long n) {
  const sl_sweep_params *p = ud;
  p->batch_begin(p->batch_ud, pts, (size_t)n);
}

static sl_status batch_hook(void *ud, dse_worker *wk, dse_point *pts, long n) {
  const sl_sweep_params *p = ud;
  sl_sweep_worker w;
  memset(&w, 0, sizeof w);
  w.wk = wk;
  sl_error e;
  memset(&e, 0, sizeof e);
  sl_status s = p->batch_eval(p->batch_ud, &w, pts, (size_t)n, &e);
  if (s && wk->err.code == SL_OK) { /* dse_run reports the worker's error */
    wk->err = e;
    if (wk->err.code == SL_OK) wk->err.code = s;
  }
  return s;
}

sl_status sl_sweep_run(const sl_sweep *h, const char *db_path, const sl_sweep_params *params,
                       sl_sweep_stats *stats, char **report, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (stats) memset(stats, 0, sizeof *stats);
  if (report) *report = NULL;
  if (!h) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_sweep_run: no sweep");
  if (!db_path || !*db_path) return err_set(err, SL_ERR_INPUT, "", 0, "", "sweep: no database file given");
  sl_sweep_params dflt = sl_sweep_params_default();
  const sl_sweep_params *p = params ? params : &dflt;
  dse_run_opts o;
  memset(&o, 0, sizeof o);
  o.db_path = db_path;
  o.jobs = p->jobs;
  o.keep_results = report != NULL; /* the report then need not scan the database again */
  if (p->progress) o.progress = progress_hook, o.ud = (void *)p;
  if (p->batch_eval) {
    o.eval_batch = batch_hook;
    if (p->batch_begin) o.eval_begin = begin_hook;
    o.eval_ud = (void *)p;
  }
  dse_run_stats st;
  memset(&st, 0, sizeof st);
  sl_status s = dse_run(h->sw, &o, &st, err);
  if (stats) {
    stats->resumed = st.resumed, stats->evaluated = st.evaluated, stats->total = st.total;
    stats->batches = st.batches, stats->seconds = st.seconds;
  }
  if (!s && report)
    s = dse_report_with(db_path, st.results, st.results ? st.total : 0, p->report_json, report, err);
  free(st.results);
  return s;
}

sl_status sl_sweep_report(const char *db_path, int json, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_sweep_report: out is NULL");
  *out = NULL;
  if (!db_path || !*db_path) return err_set(err, SL_ERR_INPUT, "", 0, "", "sweep: no database file given");
  return dse_report(db_path, json, out, err);
}
