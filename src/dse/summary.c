/* summary.c — `silica sweep --report DB`: what a sweep database says: its size, the best design
 * per objective, the Pareto front over the objectives and the base and reference chips on the same
 * workload mix.  Only feasible points (every constraint met, every workload run) are reported. */
#include "dse/dse.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRONT_ROWS 40

typedef struct row {
  long idx;
  double obj[DSE_O_COUNT];
  double area, tdp, cost, power;
  double pv[DSE_MAX_PARAMS];   /* a numeric parameter's value */
  char ps[DSE_MAX_PARAMS][24]; /* a text parameter's value (pv is NAN); formatted when printed */
} row;

/* What the search over all feasible points needs of each: its index and objectives.  Whole rows
 * are read only for the designs printed. */
typedef struct brief {
  long idx;
  double obj[DSE_O_COUNT];
} brief;

/* Reads the whole row of point idx (q: the prepared SELECT of the full columns by idx). */
static int read_row(sqlite3_stmt *q, long idx, int n_par, row *r) {
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, idx);
  if (sqlite3_step(q) != SQLITE_ROW) return -1;
  r->idx = (long)sqlite3_column_int64(q, 0);
  for (int k = 0; k < DSE_O_COUNT; k++)
    r->obj[k] = sqlite3_column_double(q, 1 + k);
  r->area = sqlite3_column_double(q, 5);
  r->tdp = sqlite3_column_double(q, 6);
  r->cost = sqlite3_column_double(q, 7);
  r->power = sqlite3_column_double(q, 8);
  for (int j = 0; j < n_par; j++) {
    if (sqlite3_column_type(q, 9 + j) == SQLITE_TEXT) {
      const char *t = (const char *)sqlite3_column_text(q, 9 + j);
      size_t len = t ? strlen(t) : 0;
      if (len >= sizeof r->ps[j]) len = sizeof r->ps[j] - 1;
      if (t) memcpy(r->ps[j], t, len);
      r->ps[j][len] = 0;
      r->pv[j] = NAN;
    } else {
      r->pv[j] = sqlite3_column_double(q, 9 + j);
    }
  }
  return 0;
}

static void meta(sqlite3 *db, const char *key, char *out, size_t n) {
  sqlite3_stmt *q = NULL;
  out[0] = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &q, NULL) != SQLITE_OK) return;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
    snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
}

static int split(char *s, char **out, int max) {
  int n = 0;
  for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ","))
    out[n++] = t;
  return n;
}

static int obj_index(const char *name) {
  for (int k = 0; k < DSE_O_COUNT; k++)
    if (strcmp(name, dse_obj_names[k]) == 0) return k;
  return -1;
}

static void print_row(jbuf *b, const row *r, int n_obj, const int *obj, int n_par) {
  char line[1024];
  int l = snprintf(line, sizeof line, "  #%-7ld", r->idx);
  for (int k = 0; k < n_obj; k++)
    l += snprintf(line + l, sizeof line - (size_t)l, " %12.4g", r->obj[obj[k]]);
  l += snprintf(line + l, sizeof line - (size_t)l, " %8.0f %6.0f %9.0f", r->area, r->tdp, r->cost);
  for (int j = 0; j < n_par; j++) {
    char v[24];
    if (isnan(r->pv[j]))
      snprintf(v, sizeof v, "%s", r->ps[j]);
    else if (r->pv[j] == floor(r->pv[j]) && fabs(r->pv[j]) < 1e14)
      snprintf(v, sizeof v, "%.0f", r->pv[j]);
    else
      snprintf(v, sizeof v, "%.6g", r->pv[j]);
    l += snprintf(line + l, sizeof line - (size_t)l, " %14s", v);
  }
  snprintf(line + l, sizeof line - (size_t)l, "\n");
  jb_raw(b, line);
}

static void print_head(jbuf *b, const char *first, int n_obj, const int *obj, int n_par, char **pars) {
  char line[1024];
  int l = snprintf(line, sizeof line, "  %-8s", first);
  for (int k = 0; k < n_obj; k++)
    l += snprintf(line + l, sizeof line - (size_t)l, " %12s", dse_obj_names[obj[k]]);
  l += snprintf(line + l, sizeof line - (size_t)l, " %8s %6s %9s", "area_mm2", "tdp_w", "unit_usd");
  for (int j = 0; j < n_par; j++)
    l += snprintf(line + l, sizeof line - (size_t)l, " %14s", pars[j]);
  snprintf(line + l, sizeof line - (size_t)l, "\n");
  jb_raw(b, line);
}

/* ---- --json ---- */

static void json_row(jbuf *b, const char *key, const row *r, int n_par, char **pars) {
  jb_obj_begin(b, key);
  jb_num(b, "point", (double)r->idx);
  for (int k = 0; k < DSE_O_COUNT; k++)
    jb_num(b, dse_obj_names[k], r->obj[k]);
  jb_num(b, "area_mm2", r->area);
  jb_num(b, "tdp_w", r->tdp);
  jb_num(b, "unit_cost_usd", r->cost);
  jb_num(b, "power_w", r->power);
  jb_obj_begin(b, "params");
  for (int j = 0; j < n_par; j++) {
    if (isnan(r->pv[j]))
      jb_str(b, pars[j], r->ps[j]);
    else
      jb_num(b, pars[j], r->pv[j]);
  }
  jb_obj_end(b);
  jb_obj_end(b);
}

static double meta_num(const char *v) {
  return v[0] && strcmp(v, "0") != 0 ? strtod(v, NULL) : NAN;
}

/* The report as one JSON object (docs/sweep.md "Report"): everything the text says, with the whole
 * front (not only its first 40 rows) and every infeasible reason's count. */
static sl_status report_json(jbuf *b, sqlite3 *db, sqlite3_stmt *full, const char *path, char *const *m,
                             const brief *rows, size_t n, long n_all, int scan_infeasible, int n_obj,
                             const int *obj, int n_par, char **pars, sl_error *err) {
  /* m: name, file, chip, strategy, total, max_area, max_tdp, max_cost */
  sl_status s = SL_OK;
  row whole;
  jb_obj_begin(b, NULL);
  jb_str(b, "database", path);
  jb_str(b, "name", m[0]);
  jb_str(b, "file", m[1]);
  jb_str(b, "base_chip", m[2]);
  jb_str(b, "strategy", m[3]);
  jb_num(b, "points_total", strtod(m[4], NULL));
  jb_num(b, "points_evaluated", (double)n_all);
  jb_num(b, "points_feasible", (double)n);
  jb_obj_begin(b, "constraints"); /* null: none */
  jb_num(b, "max_area_mm2", meta_num(m[5]));
  jb_num(b, "max_tdp_w", meta_num(m[6]));
  jb_num(b, "max_unit_cost_usd", meta_num(m[7]));
  jb_obj_end(b);
  jb_arr_begin(b, "objectives");
  for (int k = 0; k < n_obj; k++)
    jb_str(b, NULL, dse_obj_names[obj[k]]);
  jb_arr_end(b);
  jb_arr_begin(b, "best");
  for (int k = 0; k < n_obj && n > 0 && !s; k++) {
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
      if (rows[i].obj[obj[k]] > rows[best].obj[obj[k]]) best = i;
    if (read_row(full, rows[best].idx, n_par, &whole) != 0) {
      s = err_set(err, SL_ERR_INPUT, path, 0, "", "sweep database: point %ld vanished", rows[best].idx);
      break;
    }
    jb_obj_begin(b, NULL);
    jb_str(b, "objective", dse_obj_names[obj[k]]);
    json_row(b, "design", &whole, n_par, pars);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_arr_begin(b, "front");
  if (n > 0 && !s) {
    double *v = malloc(n * (size_t)n_obj * sizeof *v);
    size_t *front = malloc(n * sizeof *front), fm = 0;
    if (v && front) {
      for (size_t i = 0; i < n; i++)
        for (int k = 0; k < n_obj; k++)
          v[i * (size_t)n_obj + (size_t)k] = rows[i].obj[obj[k]];
      fm = dse_pareto(v, n, n_obj, front);
    }
    if (!v || !front || fm == 0) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (size_t i = 0; i < fm && !s; i++) {
      if (read_row(full, rows[front[i]].idx, n_par, &whole) != 0)
        s = err_set(err, SL_ERR_INPUT, path, 0, "", "sweep database: point %ld vanished", rows[front[i]].idx);
      else
        json_row(b, NULL, &whole, n_par, pars);
    }
    free(v);
    free(front);
  }
  jb_arr_end(b);
  jb_arr_begin(b, "infeasible");
  sqlite3_stmt *q = NULL;
  if (!s && scan_infeasible &&
      sqlite3_prepare_v2(db,
                         "SELECT count(*), substr(reason, 1, instr(reason || ' ', ' ') - 1) AS r FROM points "
                         "WHERE feasible = 0 GROUP BY r ORDER BY 1 DESC",
                         -1, &q, NULL) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      jb_obj_begin(b, NULL);
      jb_str(b, "reason", sqlite3_column_text(q, 1) ? (const char *)sqlite3_column_text(q, 1) : "");
      jb_num(b, "points", (double)sqlite3_column_int64(q, 0));
      jb_obj_end(b);
    }
    sqlite3_finalize(q);
  }
  jb_arr_end(b);
  jb_arr_begin(b, "chips");
  if (!s &&
      sqlite3_prepare_v2(db,
                         "SELECT chip, base, feasible, reason, throughput, perf_per_w, perf_per_tco, score, "
                         "area_mm2, tdp_w, unit_cost_usd FROM refs ORDER BY base DESC, rowid",
                         -1, &q, NULL) == SQLITE_OK) {
    static const char *const keys[7] = {"throughput", "perf_per_w", "perf_per_tco", "score",
                                        "area_mm2",   "tdp_w",      "unit_cost_usd"};
    while (sqlite3_step(q) == SQLITE_ROW) {
      jb_obj_begin(b, NULL);
      jb_str(b, "chip", (const char *)sqlite3_column_text(q, 0));
      jb_bool(b, "base", sqlite3_column_int(q, 1));
      jb_bool(b, "feasible", sqlite3_column_int(q, 2));
      if (!sqlite3_column_int(q, 2)) jb_str(b, "reason", (const char *)sqlite3_column_text(q, 3));
      for (int k = 0; k < 7; k++)
        jb_num(b, keys[k],
               sqlite3_column_type(q, 4 + k) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 4 + k));
      jb_obj_end(b);
    }
    sqlite3_finalize(q);
  }
  jb_arr_end(b);
  jb_obj_end(b);
  jb_raw(b, "\n");
  return s;
}

sl_status dse_report(const char *path, int json, char **out, sl_error *err) {
  return dse_report_with(path, NULL, 0, json, out, err);
}

sl_status dse_report_with(const char *path, const dse_brief *pts, long n_pts, int json, char **out,
                          sl_error *err) {
  *out = NULL;
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return err_set(err, SL_ERR_INPUT, path, 0, "", "cannot open the sweep database");
  }
  char sha[80], file[512], name[256], chip[128], params[512], objs[128], strategy[32], total[32];
  char mx_area[32], mx_tdp[32], mx_cost[32];
  meta(db, "sweep_sha256", sha, sizeof sha);
  if (!sha[0]) {
    sqlite3_close(db);
    return err_set(err, SL_ERR_INPUT, path, 0, "", "not a sweep database (no sweep recorded in it)");
  }
  meta(db, "file", file, sizeof file);
  meta(db, "name", name, sizeof name);
  meta(db, "chip", chip, sizeof chip);
  meta(db, "params", params, sizeof params);
  meta(db, "objectives", objs, sizeof objs);
  meta(db, "strategy", strategy, sizeof strategy);
  meta(db, "total", total, sizeof total);
  meta(db, "max_area_mm2", mx_area, sizeof mx_area);
  meta(db, "max_tdp_w", mx_tdp, sizeof mx_tdp);
  meta(db, "max_unit_cost_usd", mx_cost, sizeof mx_cost);
  char *pars[DSE_MAX_PARAMS], *on[DSE_O_COUNT];
  char params_copy[512], objs_copy[128];
  snprintf(params_copy, sizeof params_copy, "%s", params);
  snprintf(objs_copy, sizeof objs_copy, "%s", objs);
  int n_par = split(params_copy, pars, DSE_MAX_PARAMS), n_on = split(objs_copy, on, DSE_O_COUNT);
  int obj[DSE_O_COUNT], n_obj = 0;
  for (int k = 0; k < n_on; k++)
    if (obj_index(on[k]) >= 0) obj[n_obj++] = obj_index(on[k]);
  if (n_obj == 0) obj[n_obj++] = DSE_O_PERF_TCO;

  /* the feasible points: index and objectives */
  sqlite3_stmt *q = NULL, *full = NULL;
  char sql[1024];
  int l = snprintf(
      sql, sizeof sql,
      "SELECT idx, throughput, perf_per_w, perf_per_tco, score, area_mm2, tdp_w, unit_cost_usd, power_w");
  for (int j = 0; j < n_par; j++)
    l += snprintf(sql + l, sizeof sql - (size_t)l, ", p_%s", pars[j]);
  snprintf(sql + l, sizeof sql - (size_t)l, " FROM points WHERE idx = ?");
  if (sqlite3_prepare_v2(db, sql, -1, &full, NULL) != SQLITE_OK ||
      (!pts && sqlite3_prepare_v2(db,
                                  "SELECT idx, throughput, perf_per_w, perf_per_tco, score FROM points WHERE "
                                  "feasible = 1 ORDER BY idx",
                                  -1, &q, NULL) != SQLITE_OK)) {
    sl_status s = err_set(err, SL_ERR_INPUT, path, 0, "", "sweep database: %s", sqlite3_errmsg(db));
    sqlite3_finalize(full);
    sqlite3_close(db);
    return s;
  }
  brief *rows = NULL;
  size_t n = 0, cap = 0;
  sl_status s = SL_OK;
  long n_all = 0;
  if (pts) { /* given: the feasible ones */
    rows = malloc(((size_t)n_pts + 1) * sizeof *rows);
    if (!rows) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    for (long i = 0; rows && i < n_pts; i++)
      if (pts[i].feasible) {
        rows[n].idx = pts[i].idx;
        memcpy(rows[n].obj, pts[i].obj, sizeof rows[n].obj);
        n++;
      }
    n_all = n_pts;
  }
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      brief *p = realloc(rows, cap * sizeof *p);
      if (!p) {
        s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        break;
      }
      rows = p;
    }
    brief *r = &rows[n++];
    r->idx = (long)sqlite3_column_int64(q, 0);
    for (int k = 0; k < DSE_O_COUNT; k++)
      r->obj[k] = sqlite3_column_double(q, 1 + k);
  }
  sqlite3_finalize(q);
  q = NULL;
  if (!s && !pts && sqlite3_prepare_v2(db, "SELECT count(*) FROM points", -1, &q, NULL) == SQLITE_OK) {
    if (sqlite3_step(q) == SQLITE_ROW) n_all = (long)sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
  }
  jbuf b;
  jb_init(&b);
  char line[1536];
  if (!s && json) {
    char *m[8] = {name, file, chip, strategy, total, mx_area, mx_tdp, mx_cost};
    s = report_json(&b, db, full, path, m, rows, n, n_all, !pts || (long)n < n_all, n_obj, obj, n_par, pars,
                    err);
    sqlite3_finalize(full);
    goto finish;
  }
  if (!s) {
    snprintf(line, sizeof line,
             "sweep %s (%s): base chip %s, strategy %s\n%ld of %s points evaluated, %zu feasible\n",
             name[0] ? name : "-", file, chip, strategy, n_all, total, n);
    jb_raw(&b, line);
    snprintf(line, sizeof line, "constraints: area <= %s mm2, TDP <= %s W, unit cost <= %s%s\n",
             strcmp(mx_area, "0") ? mx_area : "(none)", strcmp(mx_tdp, "0") ? mx_tdp : "(none)",
             strcmp(mx_cost, "0") ? "$" : "", strcmp(mx_cost, "0") ? mx_cost : "(none)");
    jb_raw(&b, line);
    snprintf(line, sizeof line,
             "objectives (weighted geometric means over the workload mix, relative to %s = 1; higher is "
             "better): %s\n",
             chip, objs);
    jb_raw(&b, line);
  }
  row whole;
  /* best per objective */
  if (!s && n > 0) {
    jb_raw(&b, "\nbest design per objective\n");
    print_head(&b, "point", n_obj, obj, n_par, pars);
    for (int k = 0; k < n_obj && !s; k++) {
      size_t best = 0;
      for (size_t i = 1; i < n; i++)
        if (rows[i].obj[obj[k]] > rows[best].obj[obj[k]]) best = i;
      snprintf(line, sizeof line, "  best %s:\n", dse_obj_names[obj[k]]);
      jb_raw(&b, line);
      if (read_row(full, rows[best].idx, n_par, &whole) != 0)
        s = err_set(err, SL_ERR_INPUT, path, 0, "", "sweep database: point %ld vanished", rows[best].idx);
      else
        print_row(&b, &whole, n_obj, obj, n_par);
    }
    /* Pareto front */
    double *v = malloc(n * (size_t)n_obj * sizeof *v);
    size_t *front = malloc(n * sizeof *front);
    size_t m = 0;
    if (v && front) {
      for (size_t i = 0; i < n; i++)
        for (int k = 0; k < n_obj; k++)
          v[i * (size_t)n_obj + (size_t)k] = rows[i].obj[obj[k]];
      m = dse_pareto(v, n, n_obj, front);
    }
    if (s) {
    } else if (!v || !front || m == 0) {
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    } else {
      snprintf(line, sizeof line, "\nPareto front over %s: %zu designs%s\n", objs, m,
               m > MAX_FRONT_ROWS ? " (the first 40 by the first objective)" : "");
      jb_raw(&b, line);
      print_head(&b, "point", n_obj, obj, n_par, pars);
      for (size_t i = 0; i < m && i < MAX_FRONT_ROWS && !s; i++) {
        if (read_row(full, rows[front[i]].idx, n_par, &whole) != 0)
          s = err_set(err, SL_ERR_INPUT, path, 0, "", "sweep database: point %ld vanished",
                      rows[front[i]].idx);
        else
          print_row(&b, &whole, n_obj, obj, n_par);
      }
    }
    free(v);
    free(front);
  } else if (!s) {
    jb_raw(&b, "\nno feasible design (see the reason column of the points table)\n");
  }
  sqlite3_finalize(full);
  /* infeasible reasons, most common first (none to look for when every given point is feasible) */
  if (!s && (!pts || (long)n < n_all) &&
      sqlite3_prepare_v2(db,
                         "SELECT count(*), substr(reason, 1, instr(reason || ' ', ' ') - 1) AS r FROM points "
                         "WHERE feasible = 0 GROUP BY r ORDER BY 1 DESC LIMIT 6",
                         -1, &q, NULL) == SQLITE_OK) {
    int first = 1;
    while (sqlite3_step(q) == SQLITE_ROW) {
      if (first) jb_raw(&b, "\ninfeasible points by first word of their reason\n");
      first = 0;
      snprintf(line, sizeof line, "  %8lld  %s\n", (long long)sqlite3_column_int64(q, 0),
               sqlite3_column_text(q, 1) ? (const char *)sqlite3_column_text(q, 1) : "");
      jb_raw(&b, line);
    }
    sqlite3_finalize(q);
  }
  /* base and references */
  if (!s &&
      sqlite3_prepare_v2(db,
                         "SELECT chip, base, feasible, reason, throughput, perf_per_w, perf_per_tco, score, "
                         "area_mm2, tdp_w, unit_cost_usd FROM refs ORDER BY base DESC, rowid",
                         -1, &q, NULL) == SQLITE_OK) {
    jb_raw(&b, "\nthe base chip and the reference chips on the same mix\n");
    snprintf(line, sizeof line, "  %-16s %12s %12s %12s %12s %8s %6s %9s\n", "chip", "throughput",
             "perf_per_w", "perf_per_tco", "score", "area_mm2", "tdp_w", "unit_usd");
    jb_raw(&b, line);
    while (sqlite3_step(q) == SQLITE_ROW) {
      const char *c = (const char *)sqlite3_column_text(q, 0);
      if (!sqlite3_column_int(q, 2)) {
        snprintf(line, sizeof line, "  %-16s infeasible: %s\n", c ? c : "",
                 (const char *)sqlite3_column_text(q, 3));
      } else {
        double x[7];
        for (int k = 0; k < 7; k++)
          x[k] = sqlite3_column_type(q, 4 + k) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 4 + k);
        snprintf(line, sizeof line, "  %-16s %12.4g %12.4g %12.4g %12.4g %8.0f %6.0f %9.0f%s\n", c ? c : "",
                 x[0], x[1], x[2], x[3], x[4], x[5], x[6], sqlite3_column_int(q, 1) ? "   (base)" : "");
      }
      jb_raw(&b, line);
    }
    sqlite3_finalize(q);
  }
finish:
  free(rows);
  sqlite3_close(db);
  if (s || b.oom) {
    jb_free(&b);
    return s ? s : err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  *out = b.s;
  return SL_OK;
}
