/* store.c — the sweep driver and its SQLite result store (docs/sweep.md "Database").
 *
 * Points are proposed in a deterministic order and numbered; a batch of them is evaluated (on
 * `jobs` threads, point j of the batch by thread j mod jobs) and written in one transaction, its
 * rows keyed by the point index.  So the database always holds a prefix 0..k-1 of the point
 * order, and a run that finds one replays those results to the strategy (evaluating nothing)
 * and goes on from k.  Batch k is written on its own thread while batch k+1 is evaluated, and
 * batch k+1 is told and handed to the writer once batch k+2 has been asked (and, over MPI, handed
 * out), so a crash loses at most the three batches in flight, each sized to about a quarter of a
 * second of work, and never duplicates a row (WAL journal: a killed process leaves
 * the last committed transaction intact). */
#include "dse/dse.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static sl_status db_fail(sqlite3 *db, sl_error *err, const char *path, const char *what) {
  return err_set(err, SL_ERR_INPUT, path, 0, "", "sweep database: %s: %s", what,
                 db ? sqlite3_errmsg(db) : "cannot open");
}

static int exec(sqlite3 *db, const char *sql) {
  return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static const char *const METRIC_COLS[] = {"throughput", "perf_per_w",    "perf_per_tco", "score",
                                          "area_mm2",   "unit_cost_usd", "power_w",      "usd_per_hour"};
/* tdp_w is a metric column too unless it is a parameter; parameters are columns p_<name>. */

static sl_status meta_get(sqlite3 *db, const char *key, char *out, size_t n) {
  sqlite3_stmt *q = NULL;
  out[0] = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &q, NULL) != SQLITE_OK)
    return SL_ERR_INPUT;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return SL_OK;
}

static int meta_put(sqlite3 *db, const char *key, const char *val) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1, &q, NULL) !=
      SQLITE_OK)
    return -1;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, val, -1, SQLITE_STATIC);
  int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(q);
  return rc;
}

static void bind_num(sqlite3_stmt *q, int col, double v) {
  if (isfinite(v))
    sqlite3_bind_double(q, col, v);
  else
    sqlite3_bind_null(q, col);
}

/* ---- creating / checking the database ---- */

static sl_status db_open(const dse_sweep *sw, const char *path, sqlite3 **out, sl_error *err) {
  sqlite3 *db = NULL;
  /* one thread at a time uses the connection (the writer thread is joined before the next use) */
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
      SQLITE_OK) {
    sl_status s = db_fail(db, err, path, "cannot open");
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 5000);
  if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=NORMAL") ||
      exec(db, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")) {
    sl_status s = db_fail(db, err, path, "not a sweep database");
    sqlite3_close(db);
    return s;
  }
  char have[80];
  meta_get(db, "sweep_sha256", have, sizeof have);
  if (have[0] && strcmp(have, sw->sha256) != 0) {
    sqlite3_close(db);
    return err_set(
        err, SL_ERR_INPUT, path, 0, "",
        "the database holds the results of another sweep (or of an edited sweep file); use another --db");
  }
  if (!have[0]) {
    /* a new database: the schema and what the report needs to read it */
    jbuf b;
    jb_init(&b);
    jb_raw(&b, "CREATE TABLE points(idx INTEGER PRIMARY KEY, feasible INTEGER NOT NULL, reason TEXT");
    for (size_t i = 0; i < SL_ARRAY_LEN(METRIC_COLS); i++) {
      jb_raw(&b, ", ");
      jb_raw(&b, METRIC_COLS[i]);
      jb_raw(&b, " REAL");
    }
    jb_raw(&b, ", tdp_w REAL");
    for (int i = 0; i < sw->n_params; i++) {
      jb_raw(&b, ", p_");
      jb_raw(&b, dse_param_names[sw->params[i].kind]);
      jb_raw(&b, sw->params[i].kind == DSE_P_DRAM_TYPE ? " TEXT" : " REAL");
    }
    jb_raw(&b, ", workloads TEXT)");
    char params[512] = "", objs[128] = "", num[64];
    for (int i = 0; i < sw->n_params; i++) {
      size_t l = strlen(params);
      snprintf(params + l, sizeof params - l, "%s%s", i ? "," : "", dse_param_names[sw->params[i].kind]);
    }
    for (int i = 0; i < sw->n_obj; i++) {
      size_t l = strlen(objs);
      snprintf(objs + l, sizeof objs - l, "%s%s", i ? "," : "", dse_obj_names[sw->obj[i]]);
    }
    if (b.oom) {
      jb_free(&b);
      sqlite3_close(db);
      return err_set(err, SL_ERR_INTERNAL, path, 0, "", "out of memory (database schema)");
    }
    int bad =
        exec(db, "BEGIN") || exec(db, b.s) ||
        exec(db,
             "CREATE TABLE refs(chip TEXT PRIMARY KEY, base INTEGER, feasible INTEGER, reason TEXT, "
             "throughput REAL, perf_per_w REAL, perf_per_tco REAL, score REAL, area_mm2 REAL, tdp_w REAL, "
             "unit_cost_usd REAL)") ||
        meta_put(db, "file", sw->file) || meta_put(db, "name", sw->name ? sw->name : "") ||
        meta_put(db, "chip", sw->base_chip.name) || meta_put(db, "params", params) ||
        meta_put(db, "objectives", objs) || meta_put(db, "strategy", dse_strategy_names[sw->strategy]);
    jb_free(&b);
    snprintf(num, sizeof num, "%.0f", sw->total);
    bad = bad || meta_put(db, "total", num);
    snprintf(num, sizeof num, "%g", sw->max_area_mm2);
    bad = bad || meta_put(db, "max_area_mm2", num);
    snprintf(num, sizeof num, "%g", sw->max_tdp_w);
    bad = bad || meta_put(db, "max_tdp_w", num);
    snprintf(num, sizeof num, "%g", sw->max_unit_cost_usd);
    bad = bad || meta_put(db, "max_unit_cost_usd", num);
    /* the base chip and the references on the mix */
    sqlite3_stmt *q = NULL;
    bad = bad || sqlite3_prepare_v2(db, "INSERT INTO refs VALUES (?,?,?,?,?,?,?,?,?,?,?)", -1, &q, NULL) !=
                     SQLITE_OK;
    for (int i = -1; !bad && i < sw->n_refs; i++) {
      const dse_ref *r = i < 0 ? &sw->base : &sw->refs[i];
      sqlite3_reset(q);
      sqlite3_bind_text(q, 1, r->chip, -1, SQLITE_STATIC);
      sqlite3_bind_int(q, 2, i < 0);
      sqlite3_bind_int(q, 3, r->feasible);
      sqlite3_bind_text(q, 4, r->reason, -1, SQLITE_STATIC);
      for (int k = 0; k < DSE_O_COUNT; k++)
        bind_num(q, 5 + k, r->feasible ? r->obj[k] : NAN);
      bind_num(q, 9, r->area_mm2);
      bind_num(q, 10, r->tdp_w);
      bind_num(q, 11, r->unit_cost_usd);
      bad = sqlite3_step(q) != SQLITE_DONE;
    }
    sqlite3_finalize(q);
    bad = bad || meta_put(db, "sweep_sha256", sw->sha256) || exec(db, "COMMIT");
    if (bad) {
      sl_status s = db_fail(db, err, path, "cannot create the tables");
      sqlite3_close(db);
      return s;
    }
  }
  *out = db;
  return SL_OK;
}

/* ---- the driver ---- */

typedef struct job {
  dse_worker *wk;
  dse_point *pts;
  long n;
  int t, jobs;
  sl_status s;
} job;

static void *job_main(void *arg) {
  job *j = arg;
  for (long i = j->t; i < j->n && !j->s; i += j->jobs)
    j->s = dse_eval(j->wk, &j->pts[i]);
  return NULL;
}

typedef dse_brief stored;

static sl_status load_stored(sqlite3 *db, const char *path, stored **out, long *n_out, sl_error *err) {
  sqlite3_stmt *q = NULL;
  *out = NULL;
  *n_out = 0;
  if (sqlite3_prepare_v2(
          db, "SELECT idx, feasible, throughput, perf_per_w, perf_per_tco, score FROM points ORDER BY idx",
          -1, &q, NULL) != SQLITE_OK)
    return db_fail(db, err, path, "cannot read the points");
  long n = 0, cap = 0;
  stored *v = NULL;
  sl_status s = SL_OK;
  while (sqlite3_step(q) == SQLITE_ROW) {
    if (sqlite3_column_int64(q, 0) != n) {
      s = err_set(err, SL_ERR_INPUT, path, 0, "",
                  "sweep database: points are not numbered 0..n-1 (not written by silica?)");
      break;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      stored *p = realloc(v, (size_t)cap * sizeof *p);
      if (!p) {
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        break;
      }
      v = p;
    }
    v[n].idx = n;
    v[n].feasible = sqlite3_column_int(q, 1);
    for (int k = 0; k < DSE_O_COUNT; k++)
      v[n].obj[k] = sqlite3_column_type(q, 2 + k) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 2 + k);
    n++;
  }
  sqlite3_finalize(q);
  if (s) {
    free(v);
    return s;
  }
  *out = v, *n_out = n;
  return SL_OK;
}

/* v as printf's "%.6g" writes it, without printf's cost (exact decimal conversion: a third of the
 * writer's time): six significant digits from one scaling by a power of ten and one rounding.
 * Near a tie between two six-digit decimals, outside 1e-300..1e300 and for inf/NaN it calls
 * snprintf, so the text is printf's, always (tests/dse/test_sweep.c compares them).  Returns the length; out
 * needs 16 bytes. */
int dse_fmt_g6(double v, char *out) {
  static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  double a = fabs(v);
  if (!(a >= 1e-300 && a <= 1e300)) {
    if (a == 0) return snprintf(out, 16, signbit(v) ? "-0" : "0");
    return snprintf(out, 16, "%.6g", v);
  }
  int e = (int)floor(log10(a));
  double r = 0;
  for (int pass = 0; pass < 3; pass++) { /* log10 may be one off next to a power of ten */
    int k = 5 - e;
    double m;
    if (k >= 0 && k <= 22)
      m = a * P10[k];
    else if (k < 0 && k >= -22)
      m = a / P10[-k];
    else
      return snprintf(out, 16, "%.6g", v);
    r = nearbyint(m);
    /* m is within 2^-53 relative (< 1.2e-10) of a * 10^k: away from a tie, its rounding is the
     * exact value's; near one, let printf decide from the exact binary value */
    if (fabs(fabs(m - floor(m)) - 0.5) < 1e-9) return snprintf(out, 16, "%.6g", v);
    if (r >= 1e6)
      e++;
    else if (r < 1e5)
      e--;
    else
      break;
  }
  if (r >= 1e6 || r < 1e5) return snprintf(out, 16, "%.6g", v);
  char d[6];
  long n = (long)r;
  for (int i = 5; i >= 0; i--, n /= 10)
    d[i] = (char)('0' + n % 10);
  int nd = 6; /* significant digits left after dropping trailing zeros */
  while (nd > 1 && d[nd - 1] == '0')
    nd--;
  char *o = out;
  if (v < 0) *o++ = '-';
  if (e < -4 || e >= 6) { /* d.ddddde+XX */
    *o++ = d[0];
    if (nd > 1) {
      *o++ = '.';
      for (int i = 1; i < nd; i++)
        *o++ = d[i];
    }
    *o++ = 'e';
    *o++ = e < 0 ? '-' : '+';
    int x = e < 0 ? -e : e;
    if (x >= 100) *o++ = (char)('0' + x / 100);
    *o++ = (char)('0' + x / 10 % 10);
    *o++ = (char)('0' + x % 10);
  } else if (e >= 0) { /* ddd.ddd */
    for (int i = 0; i <= e; i++)
      *o++ = d[i];
    if (nd > e + 1) {
      *o++ = '.';
      for (int i = e + 1; i < nd; i++)
        *o++ = d[i];
    }
  } else { /* 0.000ddd */
    *o++ = '0';
    *o++ = '.';
    for (int i = 0; i < -e - 1; i++)
      *o++ = '0';
    for (int i = 0; i < nd; i++)
      *o++ = d[i];
  }
  *o = 0;
  return (int)(o - out);
}

/* JSON of the per-workload figures of a point into buf (n >= 64 per workload). */
static void workloads_json(const dse_sweep *sw, const dse_point *p, char *buf, size_t n) {
  size_t l = 0;
  buf[l++] = '{';
  for (int i = 0; i < sw->n_w && l + 64 < n; i++) {
    l += (size_t)snprintf(buf + l, n - l, "%s\"w%d\": [", i ? ", " : "", i);
    for (int k = 0; k < 3; k++) {
      if (k) buf[l++] = ',', buf[l++] = ' ';
      l += (size_t)dse_fmt_g6(p->wl[i][k], buf + l);
    }
    buf[l++] = ']';
  }
  buf[l++] = '}';
  buf[l] = 0;
}

static int write_batch(sqlite3 *db, sqlite3_stmt *q, const dse_sweep *sw, const dse_point *pts, long n) {
  if (exec(db, "BEGIN")) return -1;
  char wj[2048];
  for (long i = 0; i < n; i++) {
    const dse_point *p = &pts[i];
    int c = 1;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, c++, p->idx);
    sqlite3_bind_int(q, c++, p->feasible);
    sqlite3_bind_text(q, c++, p->reason, -1, SQLITE_TRANSIENT);
    for (int k = 0; k < DSE_O_COUNT; k++)
      bind_num(q, c++, p->obj[k]);
    bind_num(q, c++, p->area_mm2);
    bind_num(q, c++, p->unit_cost_usd);
    bind_num(q, c++, p->power_w);
    bind_num(q, c++, p->usd_per_hour);
    bind_num(q, c++, p->tdp_w);
    for (int j = 0; j < sw->n_params; j++) {
      const dse_param *pr = &sw->params[j];
      if (pr->kind == DSE_P_DRAM_TYPE)
        sqlite3_bind_text(q, c++, pr->s[p->vi[j]], -1, SQLITE_STATIC);
      else
        sqlite3_bind_double(q, c++, pr->v[p->vi[j]]);
    }
    if (p->feasible) {
      workloads_json(sw, p, wj, sizeof wj);
      sqlite3_bind_text(q, c++, wj, -1, SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(q, c++);
    }
    if (sqlite3_step(q) != SQLITE_DONE) {
      exec(db, "ROLLBACK");
      return -1;
    }
  }
  return exec(db, "COMMIT") ? -1 : 0;
}

/* The batch writer: batch k is written into the database on its own thread while batch k+1 is
 * evaluated (at most one writer at a time, joined before the next starts, so the batches land in
 * order and the connection is used by one thread at a time). */
typedef struct writer {
  sqlite3 *db;
  sqlite3_stmt *q;
  const dse_sweep *sw;
  const dse_point *pts;
  long n;
  int rc;
  int active; /* a thread is running */
  pthread_t th;
} writer;

static void *writer_main(void *arg) {
  writer *w = arg;
  w->rc = write_batch(w->db, w->q, w->sw, w->pts, w->n);
  return NULL;
}

/* Waits for the batch being written; -1 when its write failed. */
static int writer_join(writer *w) {
  if (w->active) pthread_join(w->th, NULL);
  w->active = 0;
  int rc = w->rc;
  w->rc = 0;
  return rc;
}

static void writer_start(writer *w, const dse_point *pts, long n) {
  w->pts = pts, w->n = n, w->rc = 0;
  w->active = pthread_create(&w->th, NULL, writer_main, w) == 0;
  if (!w->active) writer_main(w); /* no thread: write it here */
}

/* What the driver keeps between batches. */
typedef struct run_state {
  const dse_sweep *sw;
  const dse_run_opts *o;
  dse_run_stats *stats;
  dse_strategy *st;
  writer *wr;
  stored *old; /* the database's briefs, then (keep_results) every evaluated one after them */
  long n_old, old_cap;
  int old_ok; /* old still holds every point so far (keep_results) */
  long feasible;
  double best, eval_t0;
  int stop; /* the test hook asked to stop */
} run_state;

/* A batch evaluated: hand it to the writer (after the previous one is in the database), tell the
 * strategy, count it, report progress. */
static sl_status finish_batch(run_state *rs, const dse_point *todo, long m, sl_error *err) {
  const dse_sweep *sw = rs->sw;
  const dse_run_opts *o = rs->o;
  dse_run_stats *stats = rs->stats;
  if (writer_join(rs->wr)) return db_fail(rs->wr->db, err, o->db_path, "cannot write a batch");
  writer_start(rs->wr, todo, m);
  for (long i = 0; i < m; i++) {
    dse_tell(rs->st, &todo[i]);
    if (todo[i].feasible) {
      rs->feasible++;
      double f = todo[i].obj[sw->obj[0]];
      if (f > rs->best) rs->best = f;
    }
  }
  if (o->keep_results && rs->old_ok) { /* the briefs of this batch after the database's */
    long at = rs->n_old + stats->evaluated;
    if (at + m > rs->old_cap) {
      long nc = (at + m) * 2;
      stored *p = realloc(rs->old, (size_t)nc * sizeof *p);
      if (p)
        rs->old = p, rs->old_cap = nc;
      else
        rs->old_ok = 0;
    }
    for (long i = 0; rs->old_ok && i < m; i++) {
      if (todo[i].idx != at + i) { /* not the next index: let the report read the database */
        rs->old_ok = 0;
        break;
      }
      stored *b = &rs->old[at + i];
      b->idx = todo[i].idx, b->feasible = todo[i].feasible;
      memcpy(b->obj, todo[i].obj, sizeof b->obj);
    }
  }
  stats->evaluated += m;
  stats->batches++;
  if (o->progress) {
    double now = now_s();
    dse_progress pr;
    pr.done = rs->n_old + stats->evaluated;
    pr.total = (long)sw->total;
    pr.feasible = rs->feasible;
    pr.rate_per_s = (double)stats->evaluated / fmax(now - rs->eval_t0, 1e-9);
    pr.eta_s = pr.rate_per_s > 0 ? (double)(pr.total - pr.done) / pr.rate_per_s : NAN;
    pr.best = rs->best;
    o->progress(o->ud, &pr);
  }
  if (o->stop_after_batches > 0 && stats->batches >= o->stop_after_batches) rs->stop = stats->stopped = 1;
  return SL_OK;
}

sl_status dse_run(const dse_sweep *sw, const dse_run_opts *o, dse_run_stats *stats, sl_error *err) {
  memset(stats, 0, sizeof *stats);
  double t0 = now_s();
  sqlite3 *db = NULL;
  sl_status s = db_open(sw, o->db_path, &db, err);
  if (s) return s;
  stored *old = NULL;
  long n_old = 0;
  s = load_stored(db, o->db_path, &old, &n_old, err);
  int jobs = o->jobs > 1 ? o->jobs : 1;
  if (jobs > 256) jobs = 256;
  long cap = o->batch_points > 0 ? o->batch_points : 1L << 14; /* ~13 MB of points */
  long batch = o->batch_points > 0 ? o->batch_points : 16L * jobs;
  /* three buffers of points: one being written, one evaluated and told (pending), one asked and
   * evaluated next */
  dse_point *bufs = s ? NULL : malloc(3 * (size_t)cap * sizeof *bufs);
  int cur = 0;
  writer wr = {0};
  dse_worker *wk = s ? NULL : malloc((size_t)jobs * sizeof *wk);
  dse_strategy *st = s ? NULL : dse_strategy_new(sw);
  sqlite3_stmt *ins = NULL;
  if (!s && (!bufs || !wk || !st)) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  int n_wk = 0;
  for (; !s && n_wk < jobs; n_wk++)
    dse_worker_init(&wk[n_wk], sw);
  if (!s) {
    int ncol = 3 + (int)SL_ARRAY_LEN(METRIC_COLS) + 1 + sw->n_params + 1;
    char sql[1024] = "INSERT INTO points VALUES (?";
    for (int i = 1; i < ncol; i++)
      strcat(sql, ",?");
    strcat(sql, ")");
    if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK)
      s = db_fail(db, err, o->db_path, "cannot insert");
  }
  run_state rs = {sw, o, stats, st, &wr, old, n_old, n_old, 1, 0, -INFINITY, now_s(), 0};
  for (long i = 0; i < n_old; i++)
    if (old[i].feasible) {
      rs.feasible++;
      double f = old[i].obj[sw->obj[0]];
      if (f > rs.best) rs.best = f;
    }
  stats->resumed = n_old;
  wr.db = db, wr.q = ins, wr.sw = sw;
  /* The batch evaluated last is told and handed to the writer only after the next batch has been
   * asked and dispatched (over MPI: sent to the other ranks, who start on it at once), so that this
   * bookkeeping overlaps their work.  A strategy that must hear a batch before proposing more
   * (evolutionary, at a generation's end) asks nothing: then the pending batch is told first. */
  dse_point *pending = NULL;
  long pending_m = 0;
  while (!s) {
    dse_point *pts = bufs + (size_t)cur * (size_t)cap;
    long n = dse_done(st) ? 0 : dse_ask(st, pts, batch < cap ? batch : cap);
    if (n == 0) {
      if (pending) { /* the strategy waits for the pending results, or is done */
        s = finish_batch(&rs, pending, pending_m, err);
        pending = NULL;
        if (s || rs.stop) break;
        continue;
      }
      if (!dse_done(st))
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "",
                    "sweep: the strategy proposed nothing before it was done");
      break;
    }
    /* results already in the database: replay them (they precede every evaluated point, so
     * nothing is pending while they are told) */
    long k = 0;
    while (k < n && pts[k].idx < n_old) {
      dse_point *p = &pts[k];
      p->feasible = rs.old[p->idx].feasible;
      memcpy(p->obj, rs.old[p->idx].obj, sizeof p->obj);
      dse_tell(st, p);
      k++;
    }
    long m = n - k;
    if (m == 0) continue;
    dse_point *todo = pts + k;
    double tb = now_s();
    if (o->eval_begin) o->eval_begin(o->eval_ud, todo, m);
    if (pending) {
      s = finish_batch(&rs, pending, pending_m, err);
      pending = NULL;
    }
    sl_status se = SL_OK;
    if (o->eval_batch) {
      se = o->eval_batch(o->eval_ud, &wk[0], todo, m);
      if (se && err && !s) *err = wk[0].err;
    } else if (!s && (jobs == 1 || m < 2)) {
      for (long i = 0; i < m && !se; i++)
        se = dse_eval(&wk[0], &todo[i]);
      if (se && err) *err = wk[0].err;
    } else if (!s) {
      pthread_t th[256];
      job jb[256];
      for (int t = 0; t < jobs; t++) {
        jb[t] = (job){&wk[t], todo, m, t, jobs, SL_OK};
        if (pthread_create(&th[t], NULL, job_main, &jb[t]) != 0) {
          job_main(&jb[t]); /* no thread: do its share here */
          th[t] = 0;
        }
      }
      for (int t = 0; t < jobs; t++)
        if (th[t]) pthread_join(th[t], NULL);
      for (int t = 0; t < jobs && !se; t++)
        if (jb[t].s) {
          se = jb[t].s;
          if (err) *err = wk[t].err;
        }
    }
    if (!s) s = se;
    if (s || rs.stop) break; /* a stop (test hook) drops this batch, as a kill would */
    pending = todo, pending_m = m;
    cur = (cur + 1) % 3;
    double dt = now_s() - tb;
    if (o->batch_points <= 0 && dt > 0) {
      /* About a quarter of a second of work per batch, and at most a quarter of the points left:
       * the last batch is written after every evaluation is done, so it is kept short. */
      double want = (double)m / dt * 0.25, left = sw->total - (double)(todo[m - 1].idx + 1);
      batch = (long)fmin(fmax(fmin(want, left / 4), 16.0 * jobs), (double)cap);
    }
  }
  if (!s && pending && !rs.stop) s = finish_batch(&rs, pending, pending_m, err);
  old = rs.old;
  int old_ok = rs.old_ok;
  if (writer_join(&wr) && !s) s = db_fail(db, err, o->db_path, "cannot write a batch");
  stats->total = n_old + stats->evaluated;
  stats->seconds = now_s() - t0;
  sqlite3_finalize(ins);
  if (db) sqlite3_close(db);
  for (int i = 0; i < n_wk; i++)
    dse_worker_free(&wk[i]);
  free(wk);
  free(bufs);
  if (!s && o->keep_results && old_ok && old) {
    stats->results = old; /* points are numbered 0..total-1 and evaluated in idx order */
    old = NULL;
  }
  free(old);
  dse_strategy_free(st);
  return s;
}
