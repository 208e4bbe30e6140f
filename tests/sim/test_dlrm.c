/* test_dlrm.c — ranking models (DLRM): FLOP, parameters and bytes per sample against hand
 * counts; Zipf sums and the SRAM hit rate against brute force; the sharding planner never places
 * more than a chip's memory and spreads equal tables over scale-up domains; a single table on one
 * chip against a direct calculation; the embedding exchange (hierarchical all-to-all and
 * reduce-scatter) and the amortised evaluation against hand counts; loader errors name file, line
 * and key; the DGX H100 training breakdown has every category. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "test_util.h"

static const sl_row *row_named(const sl_result *r, const char *name) {
  for (size_t i = 0; i < r->n_rows; i++)
    if (strcmp(r->rows[i].name, name) == 0) return &r->rows[i];
  fail_msg("no row %s", name);
  return NULL;
}

static void close_to(double got, double want, double rel, const char *what) {
  if (!(fabs(got - want) <= rel * fabs(want))) fail_msg("%s: %.12g, want %.12g", what, got, want);
}

/* ---- sizes, FLOP and bytes per sample ------------------------------------------------------------ */

static const char *SMALL_DOT =
    "{chip: h100-sxm, task: infer, infer: {batch: 64}, model: {dlrm: {dense_features: 4,"
    " tables: [{rows: 100, dim: 8, pooling: 2}, {rows: 50, dim: 8, pooling: 3}],"
    " bottom_mlp: [16, 8], top_mlp: [32, 1], interaction: {type: dot}}}}";

static void test_small_model_by_hand(void **state) {
  (void)state;
  sl_scenario *sc = load(SMALL_DOT);
  const sl_dlrm *d = &sc->model.dlrm;
  /* bottom 4-16-8: 2(4x16 + 16x8) = 384; dot of F = 3 vectors of 8: 2 x 9 x 8 = 144, out 8 + 3 = 11;
   * top 11-32-1: 2(11x32 + 32x1) = 768 */
  close_to(dlrm_interaction_out(d), 11, 0, "dot width");
  close_to(dlrm_flops_per_sample(d), 384 + 144 + 768, 1e-15, "dot FLOP per sample");
  /* parameters: bottom (4x16+16) + (16x8+8) = 216, top (11x32+32) + (32+1) = 417; tables 1200 */
  close_to(dlrm_dense_params(d), 216 + 417, 0, "dense params");
  close_to(model_params(&sc->model), 216 + 417 + 1200, 0, "all params");
  /* bytes per sample, bf16 rows of 16 B: forward 2x16 + 3x16 = 80; training adds per lookup 2 x 16
   * (row read and written) + 2 x 4 (its Adagrad value) = 40: 5 x 40 = 200 */
  close_to(dlrm_emb_bytes_per_sample(d, 2, 0), 80, 0, "forward bytes per sample");
  close_to(dlrm_emb_bytes_per_sample(d, 2, 1), 280, 0, "training bytes per sample");
  sl_result *r = run(sc);
  assert_true(r->feasible);
  close_to(r->model_flops, 64 * 1296.0, 1e-15, "model FLOP of the batch");
  sl_result_free(r);
  sl_scenario_free(sc);

  sc = load("{chip: h100-sxm, task: train, train: {global_batch: 32}, model: {dlrm: {dense_features: 4,"
            " tables: [{rows: 100, dim: 8, pooling: 2}, {rows: 50, dim: 8, pooling: 3}],"
            " bottom_mlp: [8], top_mlp: [16, 1], interaction: {type: dcnv2, layers: 2, low_rank: 4}}}}");
  d = &sc->model.dlrm;
  /* bottom 4-8: 64; DCNv2 over D = 8 + 16 = 24, 2 layers of rank 4: 2 x 4 x 24 x 4 = 768; top 24-16-1: 800 */
  close_to(dlrm_flops_per_sample(d), 64 + 768 + 800, 1e-15, "dcnv2 FLOP per sample");
  /* bottom 40, cross 2 x (2 x 24 x 4 + 24) = 432, top 400 + 17 */
  close_to(dlrm_dense_params(d), 40 + 432 + 417, 0, "dcnv2 dense params");
  r = run(sc);
  assert_true(r->feasible);
  close_to(r->model_flops, 3 * 32 * 1632.0, 1e-15, "training model FLOP (3 x forward)");
  close_to(sl_result_number(r, "samples_per_s"), 32 / r->step_time_s, 1e-12, "samples/s");
  sl_result_free(r);
  sl_scenario_free(sc);
}

static void test_mlperf_preset(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, model: dlrm-mlperf-dcnv2, task: infer}");
  const sl_dlrm *d = &sc->model.dlrm;
  assert_int_equal(d->n_tables, 26);
  close_to(dlrm_emb_rows(d), 204184588, 0, "rows (models.md)");
  close_to(model_params(&sc->model), sc->model.params_published, 0.001,
           "params against the preset's derived count");
  /* bottom 13-512-256-128 0.341 M, cross 3 x 4 x 3456 x 512 = 21.23 M, top 3456-1024-1024-512-256-1 10.49 M
   */
  close_to(dlrm_flops_per_sample(d), 340992 + 21233664 + 10486272, 1e-15, "MLPerf FLOP per sample");
  sl_scenario_free(sc);
}

/* ---- Zipf sums and the SRAM share -------------------------------------------------------------- */

static double brute_H(double n, double s) {
  double h = 0, m = floor(n);
  for (double i = 1; i <= m; i++)
    h += pow(i, -s);
  return h + (n - m) * pow(m + 1, -s);
}

static void test_zipf_H(void **state) {
  (void)state;
  const double s[] = {0, 0.5, 0.9, 1.0, 1.05, 1.5, 2.5};
  const double n[] = {1, 7, 32, 33, 100.5, 1000, 123456.25, 2e6};
  for (size_t i = 0; i < SL_ARRAY_LEN(s); i++)
    for (size_t j = 0; j < SL_ARRAY_LEN(n); j++) {
      double want = brute_H(n[j], s[i]);
      if (fabs(zipf_H(n[j], s[i]) - want) > 1e-10 * want)
        fail_msg("H(%g, %g) = %.15g, want %.15g", n[j], s[i], zipf_H(n[j], s[i]), want);
    }
}

typedef struct brow {
  double density, freq, bytes;
  int table;
} brow;

static int by_density(const void *a, const void *b) {
  double x = ((const brow *)a)->density, y = ((const brow *)b)->density;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Every row of every table sorted by accesses per byte, taken greedily (the last one in part). */
static double brute_cache(size_t n, const double *R, const double *B, const double *rate, const double *ur,
                          const double *s, double cap, double *hit) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += (size_t)R[i];
  brow *rows = malloc(total * sizeof *rows);
  size_t k = 0;
  double all_rate = 0;
  for (size_t i = 0; i < n; i++) {
    double H = brute_H(R[i], s[i]), u = ur ? ur[i] : 0;
    all_rate += rate[i] + u;
    hit[i] = 0;
    for (double j = 1; j <= R[i]; j++, k++) {
      double f = rate[i] * pow(j, -s[i]) / H + u / R[i]; /* the skewed and the uniform lookups of row j */
      rows[k] = (brow){f / B[i], f, B[i], (int)i};
    }
  }
  qsort(rows, total, sizeof *rows, by_density);
  double left = cap, served = 0;
  for (k = 0; k < total && left > 0; k++) {
    double take = fmin(1, left / rows[k].bytes);
    served += take * rows[k].freq;
    hit[rows[k].table] += take * rows[k].freq / (rate[rows[k].table] + (ur ? ur[rows[k].table] : 0));
    left -= take * rows[k].bytes;
  }
  free(rows);
  return served / all_rate;
}

static void test_hit_rate_brute_force(void **state) {
  (void)state;
  const double R[] = {1000, 300, 2000, 50};
  const double B[] = {256, 128, 512, 256};
  const double rate[] = {10, 3, 25, 1};
  const double s[] = {1.05, 0.8, 1.3, 0};
  const double caps[] = {1e3, 2e4, 1.5e5, 6e5, 1.3e6};
  double h1[4], h2[4], scratch[8];
  for (size_t c = 0; c < SL_ARRAY_LEN(caps); c++) {
    double want = brute_cache(4, R, B, rate, NULL, s, caps[c], h2);
    double got = emb_cache_fill(4, R, B, rate, NULL, s, caps[c], h1, scratch);
    close_to(got, want, 1e-9, "overall hit rate");
    for (int i = 0; i < 4; i++)
      if (fabs(h1[i] - h2[i]) > 1e-9)
        fail_msg("cap %g table %d: hit %.12g, want %.12g", caps[c], i, h1[i], h2[i]);
  }
  /* some lookups spread uniformly over the rows (synthetic multi-hot): a flat density on every row;
   * one table all uniform, one all skewed, two mixed */
  const double ur[] = {30, 0, 5, 2}, rs[] = {10, 3, 25, 0};
  for (size_t c = 0; c < SL_ARRAY_LEN(caps); c++) {
    double want = brute_cache(4, R, B, rs, ur, s, caps[c], h2);
    double got = emb_cache_fill(4, R, B, rs, ur, s, caps[c], h1, scratch);
    close_to(got, want, 1e-9, "overall hit rate with uniform lookups");
    for (int i = 0; i < 4; i++)
      if (fabs(h1[i] - h2[i]) > 1e-9)
        fail_msg("uniform lookups, cap %g table %d: hit %.12g, want %.12g", caps[c], i, h1[i], h2[i]);
  }
  /* all uniform: the cache serves its share of the rows */
  double u1 = 1, z1 = 0;
  close_to(emb_cache_fill(1, (const double[]){1e6}, (const double[]){256}, &z1, &u1, (const double[]){1.05},
                          256 * 1e4, NULL, scratch),
           1e-2, 1e-12, "uniform share");
  /* one table: the share is H(k)/H(R) for the k = C / row bytes hottest rows (equations.md) */
  double r1 = 1e6, b1 = 256, a1 = 1, s1 = 1.05;
  close_to(emb_cache_fill(1, &r1, &b1, &a1, NULL, &s1, 256 * 12345.0, NULL, scratch),
           zipf_H(12345, 1.05) / zipf_H(1e6, 1.05), 1e-12, "single-table share");
  assert_true(emb_cache_fill(1, &r1, &b1, &a1, NULL, &s1, 1e12, NULL, scratch) == 1.0);
}

/* ---- the planner never places more than a chip's memory --------------------------------------- */

static void check_plan(const sl_shard_in *in, const sl_shard_plan *p) {
  const sl_dlrm *d = in->d;
  double *dev = calloc((size_t)in->chips, sizeof *dev), *host = calloc((size_t)in->chips, sizeof *host);
  double *cols = calloc(d->n_tables, sizeof *cols);
  for (size_t i = 0; i < p->n; i++) { /* recount what each chip holds from the shards */
    const sl_emb_shard *s = &p->shards[i];
    const sl_emb_table *t = &d->tables[s->table];
    double bytes = s->rows * shard_bytes_per_row(in, s->dim);
    if (s->kind == SL_SHARD_DATA && in->train) bytes += s->rows * s->dim * 4;
    double send = s->kind == SL_SHARD_DATA ? 0 : in->pass_samples * s->dim * in->ab;
    int domains = s->kind == SL_SHARD_TABLE_ROW || s->kind == SL_SHARD_GRID;
    int span = domains ? s->span : 1;
    for (int c = 0; c < in->chips; c++) {
      if (s->chip >= 0 && (c < s->chip || c >= s->chip + span)) continue;
      dev[c] += (s->host ? 0 : bytes) + send;
      host[c] += s->host ? bytes : 0;
    }
    if (s->kind == SL_SHARD_ROW)
      assert_true(s->rows * in->chips >= t->rows);
    else if (domains) { /* one whole scale-up domain; a grid's slices each on a domain of their own */
      assert_true(s->span == in->node_chips && s->chip % in->node_chips == 0 && s->chip + span <= in->chips);
      assert_true(s->rows * span >= t->rows && (s->rows - 1) * span < t->rows);
      close_to(s->lookup_share, 1.0 / span, 1e-15, "table-row lookup share");
      for (size_t j = 0; j < i; j++)
        if (p->shards[j].table == s->table)
          assert_true(p->shards[j].kind == s->kind && p->shards[j].chip != s->chip);
      if (s->kind == SL_SHARD_GRID) assert_true(s->dim >= 32 && s->dim < t->dim);
    } else
      assert_true(s->rows == t->rows);
    cols[s->table] += s->kind == SL_SHARD_COLUMN ? s->dim : s->kind == SL_SHARD_TABLE ? s->dim : 0;
    if (s->kind == SL_SHARD_ROW || s->kind == SL_SHARD_DATA || domains) cols[s->table] += s->dim;
  }
  for (size_t t = 0; t < d->n_tables; t++)
    assert_true(cols[t] == d->tables[t].dim); /* every table placed once */
  for (int c = 0; c < in->chips; c++) {
    if (dev[c] > in->dev_budget * (1 + 1e-12))
      fail_msg("chip %d holds %.6g B, budget %.6g B", c, dev[c], in->dev_budget);
    if (host[c] > in->host_budget * (1 + 1e-12))
      fail_msg("chip %d host %.6g B, budget %.6g B", c, host[c], in->host_budget);
    close_to(dev[c], p->dev_bytes[c], 1e-9, "planner's own count");
  }
  free(dev), free(host), free(cols);
}

static void test_planner_memory(void **state) {
  (void)state;
  enum { NT = 60 };
  sl_emb_table tables[NT];
  unsigned x = 12345;
  for (int i = 0; i < NT; i++) { /* sizes from 1e3 to 1e8 rows, dims 32-256, pooling 1-50 */
    x = x * 1103515245u + 12345u;
    double rows = floor(pow(10, 3 + (x >> 8) % 5000 / 1000.0));
    x = x * 1103515245u + 12345u;
    tables[i] =
        (sl_emb_table){NULL, rows, 32.0 * (1 + (x >> 10) % 8), 1.0 + (x >> 14) % 50, 1.05, SL_SHARD_AUTO, 0};
  }
  sl_dlrm d = {13, tables, NT, NULL, NULL, 0, 0, SL_INTER_DOT, 0, 0, 0, 0, 0};
  double total = 0;
  for (int i = 0; i < NT; i++)
    total += tables[i].rows * tables[i].dim * 2;
  const int chips[] = {1, 2, 3, 8, 16, 64};
  int feasible = 0, infeasible = 0;
  for (size_t ci = 0; ci < SL_ARRAY_LEN(chips); ci++)
    for (int train = 0; train <= 1; train++)
      for (double frac = 0.3; frac <= 3.0; frac *= 1.7) { /* budgets from too small to roomy */
        sl_shard_in in;
        memset(&in, 0, sizeof in);
        in.d = &d, in.chips = chips[ci], in.pass_samples = 4096.0 * chips[ci], in.train = train;
        in.wb = 2, in.ab = 2, in.state_row = 4;
        in.dev_budget = frac * total / chips[ci];
        in.host_budget = train ? 0 : 0.2 * total;
        in.dev_s_per_byte = 1 / 3e12, in.host_s_per_byte = 1 / 5e10;
        in.comm_s_per_byte = chips[ci] > 1 ? 1 / 4e11 : 0, in.ar_s_per_byte = chips[ci] > 1 ? 2 / 4e11 : 0;
        in.dp_max_bytes = 0.01 * in.dev_budget;
        in.node_chips = chips[ci] >= 16 ? 8 : 0; /* 2 and 8 domains of 8: table-row-wise options */
        in.dom_rs_s_per_byte = 1 / 8e11, in.grid = 1;
        arena a;
        ar_init(&a);
        sl_shard_plan p;
        assert_int_equal(shard_plan(&a, &in, &p), SL_OK);
        if (p.feasible) {
          feasible++;
          check_plan(&in, &p);
        } else {
          infeasible++;
          assert_non_null(strstr(p.reason, "fits nowhere"));
        }
        ar_free(&a);
      }
  assert_true(feasible > 10 && infeasible > 0);
}

/* ---- the embedding exchange: hierarchical all-to-all and reduce-scatter against hand counts ---- */

static void test_exchange_by_hand(void **state) {
  (void)state;
  sl_net net = {.up_bw = 400e9,
                .up_lat = 2e-6,
                .out_bw = 40e9,
                .out_lat = 5e-6,
                .node = 8}; /* NVLink 400 GB/s, NIC 40 GB/s per chip */
  double send[128];
  /* one domain of 8, every chip sends S: (n-1)/n of it over NVLink, one latency */
  for (int c = 0; c < 8; c++)
    send[c] = 8e6;
  close_to(dlrm_a2a_time(&net, send, 8, 8), 7.0 / 8 * 8e6 / 400e9 + 2e-6, 1e-12, "one domain");
  /* 16 domains of 8, one owner sends S (a whole table's pooled rows): flat, everything out of its
   * own NIC, S x 120/128 / 40 GB/s; hierarchical, 7/8 of S to its domain's chips over NVLink, then
   * S x 15/16 out on the domain's 8 NICs; the faster is taken */
  memset(send, 0, sizeof send);
  const double S = 34.6e6;
  send[3] = S;
  double flat = fmax(S * 7 / 128 / 400e9, S * 120 / 128 / 40e9) + 5e-6;
  double hier = S * 7 / 8 / 400e9 + 2e-6 + S * 15 / 16 / 8 / 40e9 + 5e-6;
  assert_true(hier < flat);
  close_to(dlrm_a2a_time(&net, send, 128, 8), hier, 1e-12, "one owner, hierarchical");
  /* every chip sends S: the domain's NICs carry 8 S x 15/16 out and as much in */
  for (int c = 0; c < 128; c++)
    send[c] = S;
  flat = fmax(S * 7 / 128 / 400e9, S * 120 / 128 / 40e9) + 5e-6;
  hier = S * 7 / 8 / 400e9 + 2e-6 + 8 * S * 15 / 16 / 8 / 40e9 + 5e-6;
  close_to(dlrm_a2a_time(&net, send, 128, 8), fmin(flat, hier), 1e-12, "balanced");
  /* the owners of a domain share its NICs: two owners in one domain take twice one owner's time
   * on the second phase; in two domains, the same as one */
  memset(send, 0, sizeof send);
  send[0] = send[1] = S;
  double two_in_one = dlrm_a2a_time(&net, send, 128, 8);
  send[1] = 0, send[8] = S;
  double two_in_two = dlrm_a2a_time(&net, send, 128, 8);
  close_to(two_in_one - two_in_two, S * 15 / 16 / 8 / 40e9, 1e-9, "a domain's NICs are shared");
  /* reduce-scatter: one domain is a ring; across domains the faster of one ring (15 of its 128 hops
   * leave a domain) and the hierarchical form */
  close_to(dlrm_rs_time(&net, S, 8, 8), 7.0 / 8 * S / 400e9 + 7 * 2e-6, 1e-12, "ring in a domain");
  double ring = 127.0 / 128 * S / fmin(400e9, 8 * 40e9) + 112 * 2e-6 + 16 * 5e-6;
  double h2 = 7.0 / 8 * S / 400e9 + 7 * 2e-6 + 15.0 / 16 * S / 8 / 40e9 + 15 * 5e-6;
  close_to(dlrm_rs_time(&net, S, 128, 8), fmin(ring, h2), 1e-12, "reduce-scatter across domains");
  assert_true(dlrm_a2a_time(&net, send, 1, 8) == 0 && dlrm_rs_time(&net, S, 1, 8) == 0);
}

/* The planner takes equally loaded chips from the least loaded domain: four equal tables on 32
 * chips in 4 domains land in four domains. */
static void test_planner_spreads_domains(void **state) {
  (void)state;
  sl_emb_table tables[4];
  for (int i = 0; i < 4; i++)
    tables[i] = (sl_emb_table){NULL, 1e6, 128, 4, 1.05, SL_SHARD_TABLE, 0};
  sl_dlrm d = {13, tables, 4, NULL, NULL, 0, 0, SL_INTER_DOT, 0, 0, 0, 0, 0};
  sl_shard_in in;
  memset(&in, 0, sizeof in);
  in.d = &d, in.chips = 32, in.pass_samples = 32 * 1024.0, in.train = 1, in.wb = 2, in.ab = 2,
  in.state_row = 4;
  in.dev_budget = 1e11, in.dev_s_per_byte = 1 / 3e12, in.comm_s_per_byte = 1 / 4e11, in.dp_max_bytes = 0;
  for (int k = 1; k <= 8; k *= 8) {
    in.node_chips = k;
    arena a;
    ar_init(&a);
    sl_shard_plan p;
    assert_int_equal(shard_plan(&a, &in, &p), SL_OK);
    assert_true(p.feasible && p.n == 4);
    int dom[4] = {0};
    for (size_t i = 0; i < p.n; i++)
      dom[p.shards[i].chip / 8]++;
    for (int j = 0; j < 4; j++)
      if (k == 8 && dom[j] != 1) fail_msg("domain %d holds %d tables", j, dom[j]);
    if (k == 1) assert_int_equal(dom[0], 4); /* no domains: the first chips */
    ar_free(&a);
  }
}

/* Table-row-wise and grid sharding: with a slow scale-out network a heavily looked-up table goes to
 * the 8 chips of one domain (1/8 of its lookups each, the partial sums reduce-scattered over the
 * domain's links, 1/8 of the pooled rows sent out by each) rather than to one chip or to all 32; left
 * to the planner it is cut into 4 column slices of 32 on the 4 domains, each slice table-row-wise
 * (grid), so that every chip serves 1/8 of the lookups of a row a quarter as wide; with one domain
 * neither option exists and a table_row or grid constraint means row-wise. */
static void test_planner_table_row(void **state) {
  (void)state;
  sl_emb_table tables[1] = {{NULL, 4e7, 128, 40, 1.05, SL_SHARD_AUTO, 0}};
  sl_dlrm d = {13, tables, 1, NULL, NULL, 0, 0, SL_INTER_DOT, 0, 0, 0, 0, 0};
  sl_shard_in in;
  memset(&in, 0, sizeof in);
  in.d = &d, in.chips = 32, in.pass_samples = 32 * 1024.0, in.train = 1, in.wb = 2, in.ab = 2,
  in.state_row = 4;
  in.dev_budget = 1e11, in.dev_s_per_byte = 1 / 3e12, in.dp_max_bytes = 0;
  in.comm_s_per_byte = 1 / 4e10, in.dom_rs_s_per_byte = 1 / 4e11; /* NICs 10x slower than the domain */
  const sl_shard_kind want[] = {SL_SHARD_GRID, SL_SHARD_TABLE_ROW, SL_SHARD_ROW,
                                SL_SHARD_ROW,  SL_SHARD_ROW,       SL_SHARD_TABLE_ROW};
  const sl_shard_kind ask[] = {SL_SHARD_AUTO, SL_SHARD_TABLE_ROW, SL_SHARD_TABLE_ROW,
                               SL_SHARD_GRID, SL_SHARD_TABLE_ROW, SL_SHARD_AUTO};
  const int domain[] = {8, 8, 32, 32, 1, 8};
  const size_t shards[] = {4, 1, 1, 1, 1, 1};
  for (int i = 0; i < 6; i++) {
    in.node_chips = domain[i];
    in.grid = i < 5; /* the last: software without grid shards */
    tables[0].sharding = ask[i];
    arena a;
    ar_init(&a);
    sl_shard_plan p;
    assert_int_equal(shard_plan(&a, &in, &p), SL_OK);
    assert_true(p.feasible && p.n == shards[i]);
    if (p.shards[0].kind != want[i])
      fail_msg("domains of %d: kind %d, want %d", domain[i], p.shards[0].kind, want[i]);
    check_plan(&in, &p);
    if (i <= 1 || i == 5) { /* by hand: 1/8 of the lookups of a slice's rows, 1/8 of its pooled rows sent, the
                     domain's reduce-scatter of the slice's partial sums */
      double w = i == 0 ? 32 : 128, L = 32 * 1024.0 * 40, out = 32 * 1024.0 * w * 2;
      double cost = L / 8 * shard_lookup_bytes(&in, w) / 3e12 + out / 8 * 2 / 4e10 + out * 2 / 4e11;
      for (int c = 0; c < 32; c++)
        close_to(p.load_s[c] + 1e-30, i == 0 || c < 8 ? cost : 1e-30, 1e-12, "load of a chip");
    }
    ar_free(&a);
  }
}

/* The step with a table-row-wise table on 2 domains of 8: the domain's reduce-scatter (and the
 * backward's all-gather) is a ring over its 8 chips on the scale-up links, and each of the domain's
 * chips sends 1/8 of the pooled rows; the rows name the shard ".trow". */
static void test_table_row_step(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, system: {chips: 16, node_chips: 8, scale_up: {bw_GBps: 450},"
           " scale_out: {bw_GBps: 50}}, task: train, train: {global_batch: 16384},"
           " model: {dlrm: {dense_features: 13, tables: [{rows: 40000000, dim: 128, pooling: 20,"
           " sharding: table_row}], bottom_mlp: [128], top_mlp: [256, 1], interaction: {type: dot}}}}");
  sl_result *r = run(sc);
  assert_true(r->feasible);
  const sl_row *rs = row_named(r, "pooled_reduce_scatter_domain"),
               *ag = row_named(r, "pooled_all_gather_domain.bwd");
  double S = 16384.0 * 128 * sl_dtype_bytes[sc->a_dtype];
  close_to(rs->bytes, S, 1e-12, "partial sums of every sample");
  sl_net net;
  net_init(&net, &sc->scale_up, &sc->scale_out, sc->node_chips);
  close_to(rs->time_s, 7.0 / 8 * S / net.up_bw + 7 * net.up_lat, 1e-9, "ring over the domain");
  close_to(ag->time_s, rs->time_s, 1e-12, "all-gather mirrors it");
  close_to(row_named(r, "pooled_all_to_all")->bytes, S / 8, 1e-12, "each chip sends 1/8");
  assert_true(row_named(r, "embedding.t0.trow")->time_s > 0);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* The step with a grid-sharded table on 4 domains of 8: four column slices of 32, one a domain, each
 * table-row-wise over its domain; each domain reduce-scatters its slice's partial sums over its own
 * links and each chip sends 1/8 of them; the rows name the shard ".grid". */
static void test_grid_step(void **state) {
  (void)state;
  sl_scenario *sc =
      load("{chip: h100-sxm, system: {chips: 32, node_chips: 8, scale_up: {bw_GBps: 450},"
           " scale_out: {bw_GBps: 50}}, task: train, train: {global_batch: 32768},"
           " model: {dlrm: {dense_features: 13, tables: [{rows: 40000000, dim: 128, pooling: 20,"
           " sharding: grid}], bottom_mlp: [128], top_mlp: [256, 1], interaction: {type: dot}}}}");
  sl_result *r = run(sc);
  assert_true(r->feasible);
  const sl_row *rs = row_named(r, "pooled_reduce_scatter_domain");
  double S = 32768.0 * 32 * sl_dtype_bytes[sc->a_dtype]; /* one slice's partial sums, every sample */
  close_to(rs->bytes, S, 1e-12, "a slice's partial sums");
  sl_net net;
  net_init(&net, &sc->scale_up, &sc->scale_out, sc->node_chips);
  close_to(rs->time_s, 7.0 / 8 * S / net.up_bw + 7 * net.up_lat, 1e-9, "ring over the domain");
  close_to(row_named(r, "pooled_all_to_all")->bytes, S / 8, 1e-12, "each chip sends 1/8 of its slice");
  const sl_row *g = row_named(r, "embedding.t0.grid");
  assert_true(g->time_s > 0);
  sl_result_free(r);
  /* the same table table-row-wise on one domain: every chip of it serves the whole row width */
  sl_scenario *tr =
      load("{chip: h100-sxm, system: {chips: 32, node_chips: 8, scale_up: {bw_GBps: 450},"
           " scale_out: {bw_GBps: 50}}, task: train, train: {global_batch: 32768},"
           " model: {dlrm: {dense_features: 13, tables: [{rows: 40000000, dim: 128, pooling: 20,"
           " sharding: table_row}], bottom_mlp: [128], top_mlp: [256, 1], interaction: {type: dot}}}}");
  sl_result *rt = run(tr);
  r = run(sc);
  assert_true(rt->feasible &&
              row_named(r, "embedding.t0.grid")->time_s < row_named(rt, "embedding.t0.trow")->time_s);
  assert_true(r->step_time_s < rt->step_time_s);
  sl_result_free(r);
  sl_result_free(rt);
  sl_scenario_free(tr);
  sl_scenario_free(sc);
  /* software whose planner has no grid shards: the constraint makes the scenario infeasible, saying why */
  sc = load(
      "{chip: h100-sxm, system: {chips: 32, node_chips: 8}, stack: {preset: torchrec-2024, grid_sharding:"
      " false}, task: train, train: {global_batch: 32768}, model: {dlrm: {dense_features: 13, tables:"
      " [{rows: 40000000, dim: 128, pooling: 20, sharding: grid}], bottom_mlp: [128], top_mlp: [256, 1],"
      " interaction: {type: dot}}}}");
  r = run(sc);
  assert_false(r->feasible);
  assert_non_null(strstr(r->reason, "grid_sharding: false"));
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* The benchmark's evaluation: a training step adds eval_samples / eval_every forward samples per
 * trained one, each at the time per sample of an inference run of the model at batch_scale times
 * the global batch over the tables as training placed them (here both runs place them alike). */
static void test_evaluation_amortised(void **state) {
  (void)state;
  static const char model[] =
      "model: {dlrm: {dense_features: 4, eval: {every_samples: 1000, samples: 250, batch_scale: 2},"
      " tables: [{rows: 100000, dim: 16, pooling: 3, sharding: table}, {rows: 5000, dim: 16, pooling: 1,"
      " sharding: table}], bottom_mlp: [16], top_mlp: [32, 1], interaction: {type: dot}}}";
  char text[700];
  snprintf(text, sizeof text,
           "{chip: h100-sxm, system: {chips: 4}, task: train, train: {global_batch: 512}, %s}", model);
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  assert_true(r->feasible);
  const sl_row *ev = row_named(r, "evaluation");
  snprintf(text, sizeof text, "{chip: h100-sxm, system: {chips: 4}, task: infer, infer: {batch: 1024}, %s}",
           model);
  sl_scenario *si = load(text);
  sl_result *ri = run(si);
  assert_true(ri->feasible);
  /* 512 trained samples bring 128 evaluated ones, at the inference run's time per sample */
  close_to(ev->time_s, 512 * 0.25 * ri->step_time_s / 1024, 1e-9, "evaluation per step");
  close_to(ev->count, 512 * 0.25 / 1024, 1e-12, "evaluation passes per step");
  close_to(sl_result_number(r, "samples_per_s"), 512 / r->step_time_s, 1e-12, "samples/s counts it");
  double with = r->step_time_s, ev_time = ev->time_s;
  sl_result_free(r);
  sl_scenario_free(sc);
  sl_result_free(ri);
  sl_scenario_free(si);
  /* without the key, the same step less the evaluation */
  snprintf(text, sizeof text,
           "{chip: h100-sxm, system: {chips: 4}, task: train, train: {global_batch: 512}, model: {dlrm: "
           "{dense_features: 4, tables: [{rows: 100000, dim: 16, pooling: 3, sharding: table}, {rows: 5000, "
           "dim: 16, pooling: 1, sharding: table}], bottom_mlp: [16], top_mlp: [32, 1], interaction: {type: "
           "dot}}}}");
  sc = load(text);
  r = run(sc);
  close_to(r->step_time_s, with - ev_time, 1e-9, "the step less the evaluation");
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* Through whole runs: the fullest chip's memory never passes its capacity. */
static void test_run_memory_bound(void **state) {
  (void)state;
  const char *models[] = {"rank-hc-1000", "dlrm-mlperf-dcnv2"};
  const int chips[] = {1, 2, 4, 8, 16};
  for (size_t m = 0; m < 2; m++)
    for (size_t c = 0; c < SL_ARRAY_LEN(chips); c++) {
      char text[300];
      snprintf(
          text, sizeof text,
          "{chip: a100-sxm-80gb, model: %s, task: train, system: {chips: %d}, train: {global_batch: %d}}",
          models[m], chips[c], 2048 * chips[c]);
      sl_scenario *sc = load(text);
      sl_result *r = run(sc);
      if (r->feasible) {
        assert_true(r->mem.per_chip_bytes <= r->mem.capacity_bytes);
        assert_true(r->mem.fits);
      } else {
        assert_non_null(strstr(r->reason, "memory"));
      }
      sl_result_free(r);
      sl_scenario_free(sc);
    }
}

/* A table that fits nowhere is a result, not an error; host memory rescues it on PCIe chips. */
static void test_fits_nowhere(void **state) {
  (void)state;
#define FITS_NOWHERE(sys)                                                                                    \
  "{chip: mtia-2i, task: infer, infer: {batch: 256}, " sys " model: {dlrm: {dense_features: 8,"              \
  " tables: [{rows: 600000000, dim: 128, pooling: 4, zipf: 1.05}], bottom_mlp: [128], top_mlp: [64, 1],"     \
  " interaction: {type: dot}}}}"
  const char *text = FITS_NOWHERE("");
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  assert_false(r->feasible);
  assert_non_null(strstr(r->reason, "t0"));
  assert_non_null(strstr(r->reason, "fits nowhere"));
  char *json = sl_result_json(r);
  assert_non_null(strstr(json, "\"feasible\":false"));
  free(json);
  sl_result_free(r);
  sl_scenario_free(sc);
  sc = load(FITS_NOWHERE("system: {chips: 1, host_memory_bytes: 2.0e+11},"));
  r = run(sc);
  assert_true(r->feasible);
  const sl_row *e = row_named(r, "embedding.t0.host");
  assert_true(e->bound == SL_BOUND_NETWORK); /* misses cross PCIe */
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* ---- a single table on one chip against a direct calculation ------------------------------------ */

static void test_single_table_direct(void **state) {
  (void)state;
  for (int train = 0; train <= 1; train++) {
    char text[600];
    snprintf(text, sizeof text,
             "{chip: h100-sxm, task: %s, %s model: {dlrm: {dense_features: 13,"
             " tables: [{rows: 100000000, dim: 64, pooling: 10, zipf: 1.05}], bottom_mlp: [64], top_mlp: [1],"
             " interaction: {type: dot}}}}",
             train ? "train" : "infer", train ? "train: {global_batch: 4096}," : "infer: {batch: 4096},");
    sl_scenario *sc = load(text);
    sl_result *r = run(sc);
    assert_true(r->feasible);
    const sl_chip *c = &sc->chip;
    const sl_dlrm *d = &sc->model.dlrm;
    double B = 4096, L = B * 10, row = 64 * 2.0, st = train ? 4.0 : 0;
    /* the dense part (tiny) is SRAM-resident; the rest of the 50 MB L2 holds the hottest rows */
    double ws = dlrm_dense_params(d) * 2 + B * dlrm_act_bytes_per_sample(d, 2, train);
    double l2 = chip_l2(c)->capacity_bytes;
    assert_true(ws <= l2 / 2);
    double h = zipf_H((l2 - ws) / (row + st), 1.05) / zipf_H(1e8, 1.05);
    double dram = chip_dram(c)->bw_GBps * 1e9,
           rnd = dram * (c->eff_random > 0 ? c->eff_random : c->eff_stream);
    double seq = dram * c->eff_stream, sram = chip_l2(c)->bw_GBps * 1e9 * c->eff_sram;
    double vec = chip_vec_flops(c, SL_FP32) * c->eff_vector;
    double units = ceil(row / 64) * 64, out = B * 64 * 2;
    double fwd =
        fmax(fmax(L * (1 - h) * units / rnd + (out + L * 8) / seq, L * h * row / sram), L * 64 / vec);
    double want = (fwd + c->kernel_latency_s) / sc->stack.efficiency + sc->stack.kernel_overhead_s;
    const sl_row *e = row_named(r, "embedding.t0");
    close_to(e->time_s, want, 1e-12, "forward embedding time");
    close_to(e->sram_hit_rate, h, 1e-12, "hit rate");
    if (train) {
      double bwd = fmax(fmax(L * (1 - h) * (2 * units + 2 * 64) / rnd + (out + L * 32) / seq,
                             L * h * 2 * (row + st) / sram),
                        5 * L * 64 / vec);
      close_to(row_named(r, "embedding.t0.bwd")->time_s,
               (bwd + c->kernel_latency_s) / sc->stack.efficiency + sc->stack.kernel_overhead_s, 1e-12,
               "backward embedding time");
    }
    double sum = 0;
    for (size_t i = 0; i < r->n_rows; i++)
      sum += r->rows[i].time_s;
    close_to(sum, r->step_time_s, 1e-12, "rows add up to the step");
    sl_result_free(r);
    sl_scenario_free(sc);
  }
}

/* ---- the DGX H100 training run: every category, rows add up ------------------------------------ */

static void test_dgx_breakdown(void **state) {
  (void)state;
  sl_scenario *sc = load("{chip: h100-sxm, system: dgx-h100, model: dlrm-mlperf-dcnv2, task: train,"
                         " train: {global_batch: 55296}}");
  sl_result *r = run(sc);
  assert_true(r->feasible);
  double cat[SL_CAT_COUNT] = {0}, sum = 0;
  int hit_rows = 0;
  for (size_t i = 0; i < r->n_rows; i++) {
    cat[r->rows[i].cat] += r->rows[i].time_s;
    sum += r->rows[i].time_s;
    if (r->rows[i].cat == SL_CAT_EMBEDDING) {
      assert_true(r->rows[i].sram_hit_rate >= 0 && r->rows[i].sram_hit_rate <= 1);
      hit_rows++;
    }
  }
  assert_true(cat[SL_CAT_EMBEDDING] > 0 && cat[SL_CAT_GEMM] > 0 && cat[SL_CAT_INTERACTION] > 0 &&
              cat[SL_CAT_COLLECTIVE] > 0);
  assert_true(hit_rows >= 26);
  close_to(sum, r->step_time_s, 1e-12, "rows add up to the step");
  close_to(sl_result_number(r, "samples_per_s"), 55296 / r->step_time_s, 1e-12, "samples/s");
  assert_true(r->mem.fits);
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* A sharding constraint is obeyed; more chips never make the embedding slower per sample. */
static void test_sharding_constraints(void **state) {
  (void)state;
  const char *kinds[] = {"row", "column", "data"}, *suffix[] = {".row", ".col", ".data"};
  for (int k = 0; k < 3; k++) {
    char text[600];
    snprintf(text, sizeof text,
             "{chip: h100-sxm, system: {chips: 4}, task: train, train: {global_batch: 8192}, model: {dlrm: {"
             "dense_features: 13, tables: [{rows: 1000000, dim: 128, pooling: 5, sharding: %s}, {rows: 5000, "
             "dim: 128,"
             " pooling: 1}], bottom_mlp: [128], top_mlp: [256, 1], interaction: {type: dot}}}}",
             kinds[k]);
    sl_scenario *sc = load(text);
    sl_result *r = run(sc);
    assert_true(r->feasible);
    char name[64];
    snprintf(name, sizeof name, "embedding.t0%s", suffix[k]);
    assert_true(row_named(r, name)->time_s > 0);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
}

/* ---- the host's issue time ------------------------------------------------------------------------ */

/* dlrm_host_ops against hand counts: two bottom and two top layers (8 parameter tensors), two tables. */
static void test_host_ops_by_hand(void **state) {
  (void)state;
  sl_scenario *sc = load(SMALL_DOT);
  const sl_dlrm *d = &sc->model.dlrm;
  sl_stack st = sc->stack;
  st.host_ops_per_feature = 3, st.embedding_fused = 1, st.optimizer_foreach = 0;
  /* a pass: 10 dense + 2 kinds x (forward, backward) + 4 collectives + 3 x 2 features = 24; two passes,
   * the optimizer's 8 tensors stepped and zeroed (16) and the all-reduce (1) */
  close_to(dlrm_host_ops(&st, d, 1, 2, 10, 5, 2, 4), 2 * 24 + 16 + 1, 0, "fused, per-tensor optimizer");
  st.embedding_fused = 0; /* 5 shards x 2 instead of 2 kinds x 2 */
  close_to(dlrm_host_ops(&st, d, 1, 2, 10, 5, 2, 4), 2 * 30 + 16 + 1, 0, "one kernel per shard");
  st.embedding_fused = 1, st.optimizer_foreach = 1;
  close_to(dlrm_host_ops(&st, d, 1, 2, 10, 5, 2, 4), 2 * 24 + 2 + 1, 0, "multi-tensor optimizer");
  close_to(dlrm_host_ops(&st, d, 0, 1, 10, 5, 2, 4), 10 + 2 + 4 + 6, 0, "a forward pass");
  sl_scenario_free(sc);
}

/* A training step that waits on the device once is the longer of the device time and the host's
 * launches: with many host ops a feature the step is a whole number of launches, and the device time
 * is what the same stack without host_sync predicts. */
static void test_host_bound_step(void **state) {
  (void)state;
  static const char fmt[] =
      "{chip: a100-sxm-80gb, system: {chips: 2}, task: train, train: {global_batch: 256},"
      " stack: {preset: torchrec, kernel_overhead_s: 1.0e-5, host_step_s: 0, host_sync: %s, "
      "host_ops_per_feature: %d},"
      " model: {dlrm: {dense_features: 4, tables: [{rows: 1000, dim: 16, pooling: 1},"
      " {rows: 500, dim: 16, pooling: 1}], bottom_mlp: [16], top_mlp: [32, 1], interaction: {type: dot}}}}";
  char text[600];
  snprintf(text, sizeof text, fmt, "false", 1000);
  sl_scenario *sc = load(text);
  sl_result *r = run(sc);
  assert_true(r->feasible);
  double device = r->step_time_s;
  for (size_t i = 0; i < r->n_rows; i++)
    assert_true(strcmp(r->rows[i].name, "host_issue_wait") != 0);
  sl_result_free(r);
  sl_scenario_free(sc);

  snprintf(text, sizeof text, fmt, "true", 1000);
  sc = load(text);
  r = run(sc);
  assert_true(r->feasible);
  double launches = r->step_time_s / 1.0e-5;
  /* 2 features x 1000, and between 20 and 200 kernels, collectives and optimizer launches */
  if (!(launches > 2000 + 20 && launches < 2000 + 200)) fail_msg("%g launches", launches);
  close_to(launches, round(launches), 1e-9, "a whole number of launches");
  close_to(row_named(r, "host_issue_wait")->time_s, r->step_time_s - device, 1e-9, "the wait is the excess");
  sl_result_free(r);
  sl_scenario_free(sc);

  /* no host ops a feature: the step is still the longer of the device time and a whole number of
   * launches, no more than the kernels, collectives and optimizer launches above */
  snprintf(text, sizeof text, fmt, "true", 0);
  sc = load(text);
  r = run(sc);
  double step0 = r->step_time_s;
  sl_result_free(r);
  sl_scenario_free(sc);
  snprintf(text, sizeof text, fmt, "false", 0);
  sc = load(text);
  r = run(sc);
  double dev0 = r->step_time_s, n0 = launches - 2000;
  close_to(step0, fmax(dev0, n0 * 1.0e-5), 1e-9, "the longer of device and host");
  sl_result_free(r);
  sl_scenario_free(sc);

  /* the stack's host work per step (host_step_s) adds to the launches: past the device's time the step
   * is the launches plus it */
  char with_step[700];
  snprintf(text, sizeof text, fmt, "true", 0);
  char *at = strstr(text, "host_step_s: 0");
  assert_non_null(at);
  snprintf(with_step, sizeof with_step, "%.*shost_step_s: 0.003%s", (int)(at - text), text,
           at + strlen("host_step_s: 0"));
  sc = load(with_step);
  r = run(sc);
  assert_true(3e-3 + n0 * 1.0e-5 > dev0);
  close_to(r->step_time_s, 3e-3 + n0 * 1.0e-5, 1e-9, "launches and the step's host work");
  sl_result_free(r);
  sl_scenario_free(sc);
}

/* A ranking model with no stack runs on TorchRec as released since 2023 (torchrec-2024): its train
 * pipeline does not wait on the device, so the host does not bind; `torchrec` is TorchRec's 2022
 * pipeline, which did. */
static void test_default_stack(void **state) {
  (void)state;
  sl_scenario *sc = load(SMALL_DOT);
  assert_string_equal(sc->stack.name, "torchrec-2024");
  assert_false(sc->stack.host_sync);
  assert_true(sc->stack.optimizer_foreach);
  sl_scenario_free(sc);
  sc = load(
      "{chip: h100-sxm, stack: torchrec, task: infer, infer: {batch: 64}, model: {dlrm: {dense_features: 4,"
      " tables: [{rows: 100, dim: 8, pooling: 2}, {rows: 50, dim: 8, pooling: 3}],"
      " bottom_mlp: [16, 8], top_mlp: [32, 1], interaction: {type: dot}}}}");
  assert_true(sc->stack.host_sync);
  assert_true(sc->stack.host_step_s > 1e-3); /* fitted: milliseconds of Python a step */
  sl_scenario_free(sc);
}

/* ---- loader errors -------------------------------------------------------------------------------- */

static void expect_error(const char *text, const char *key, int line) {
  sl_scenario *sc = NULL;
  sl_error err;
  sl_status s = sl_scenario_load(NULL, text, NULL, 0, &sc, &err);
  if (s != SL_ERR_INPUT) fail_msg("status %d for %s", s, text);
  if (strcmp(err.key, key) != 0) fail_msg("key \"%s\", want \"%s\" (%s)", err.key, key, err.message);
  if (line > 0 && err.line != line) fail_msg("line %d, want %d (%s)", err.line, line, err.message);
  assert_string_equal(err.file, "<inline>");
}

static void test_loader_errors(void **state) {
  (void)state;
  const char *head = "chip: h100-sxm\ntask: infer\nmodel:\n  dlrm:\n";
  char text[1024];
#define CASE(body, key, line)                                                                                \
  do {                                                                                                       \
    snprintf(text, sizeof text, "%s%s", head, body);                                                         \
    expect_error(text, key, line);                                                                           \
  } while (0)
  const char *rest = "    bottom_mlp: [8]\n    top_mlp: [4, 1]\n    interaction: {type: dot}\n";
  char body[800];
  snprintf(body, sizeof body,
           "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 8, pooling: 1, colour: red}\n%s",
           rest);
  CASE(body, "model.dlrm.tables[0].colour", 7);
  snprintf(body, sizeof body,
           "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 8, pooling: 1}\n      - {dim: 8, "
           "pooling: 1}\n%s",
           rest);
  CASE(body, "model.dlrm.tables[1].rows", 8);
  snprintf(body, sizeof body,
           "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 16, pooling: 1}\n%s", rest);
  CASE(body, "model.dlrm.tables[0]", 7); /* dot: dims must equal the bottom output */
  snprintf(body, sizeof body,
           "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 8, pooling: 0}\n%s", rest);
  CASE(body, "model.dlrm.tables[0].pooling", 7);
  snprintf(body, sizeof body,
           "    dense_features: 4\n    tables:\n      - {rows: 10.5, dim: 8, pooling: 1}\n%s", rest);
  CASE(body, "model.dlrm.tables[0]", 7);
  snprintf(body, sizeof body,
           "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 8, pooling: 1, zipf: -1}\n%s", rest);
  CASE(body, "model.dlrm.tables[0].zipf", 7);
  snprintf(
      body, sizeof body,
      "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 8, pooling: 2, skewed_lookups: 3}\n%s",
      rest);
  CASE(body, "model.dlrm.tables[0].skewed_lookups", 7); /* more than the lookups it has */
  snprintf(body, sizeof body,
           "    dense_features: 4\n    skewed_lookups: -1\n    tables:\n      - {rows: 10, dim: 8, pooling: "
           "2}\n%s",
           rest);
  CASE(body, "model.dlrm.skewed_lookups", 6);
  snprintf(body, sizeof body,
           "    dense_features: 4\n    eval: {every_samples: 0, samples: 10}\n    tables:\n      - {rows: "
           "10, dim: 8, pooling: 2}\n%s",
           rest);
  CASE(body, "model.dlrm.eval.every_samples", 6);
  snprintf(body, sizeof body,
           "    dense_features: 4\n    eval: {every_samples: 100, samples: 10, when: daily}\n    tables:\n   "
           "   - {rows: 10, dim: 8, pooling: 2}\n%s",
           rest);
  CASE(body, "model.dlrm.eval.when", 6);
  snprintf(
      body, sizeof body,
      "    dense_features: 4\n    tables:\n      - {rows: 10, dim: 8, pooling: 1, sharding: diagonal}\n%s",
      rest);
  CASE(body, "model.dlrm.tables[0].sharding", 7);
  CASE("    dense_features: 4\n    tables: []\n    bottom_mlp: [8]\n    top_mlp: [1]\n    interaction: "
       "{type: dot}\n",
       "model.dlrm.tables", 6);
  CASE("    dense_features: 4\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    bottom_mlp: [8, 2.5]\n"
       "    top_mlp: [1]\n    interaction: {type: dot}\n",
       "model.dlrm.bottom_mlp[1]", 7);
  CASE("    dense_features: 4\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    top_mlp: [1]\n    "
       "interaction: {type: dot}\n",
       "model.dlrm.bottom_mlp", 0);
  CASE("    dense_features: 4\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    bottom_mlp: [8]\n    "
       "top_mlp: [1]\n"
       "    interaction: {type: cross}\n",
       "model.dlrm.interaction.type", 9);
  CASE("    dense_features: 4\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    bottom_mlp: [8]\n    "
       "top_mlp: [1]\n"
       "    interaction: {type: dcnv2, layers: 2}\n",
       "model.dlrm.interaction.low_rank", 9);
  CASE("    dense_features: 4\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    bottom_mlp: [8]\n    "
       "top_mlp: [1]\n"
       "    interaction: {type: dot, layers: 2}\n",
       "model.dlrm.interaction.layers", 9);
  CASE("    dense_features: 4\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    bottom_mlp: [8]\n    "
       "top_mlp: [1]\n"
       "    interaction: {type: dot}\n    extra: 1\n",
       "model.dlrm.extra", 10);
  CASE("    dense_features: 0\n    tables: [{rows: 10, dim: 8, pooling: 1}]\n    top_mlp: [1]\n"
       "    interaction: {type: dot}\n",
       "model.dlrm.interaction", 8); /* one vector has no pairs */
#undef CASE
  /* scenario rules of a DLRM */
  expect_error("{chip: h100-sxm, system: {chips: 8}, task: train, train: {global_batch: 100}, model: "
               "dlrm-mlperf-dcnv2}",
               "train.global_batch", 0);
  expect_error(
      "{chip: h100-sxm, system: {chips: 8}, task: train, parallel: {tp: 2}, train: {global_batch: 1024},"
      " model: dlrm-mlperf-dcnv2}",
      "parallel", 0);
  expect_error("{chip: h100-sxm, task: decode, model: dlrm-mlperf-dcnv2}", "task", 0);
}

/* Every ranking preset loads, and its stated FLOP per sample is silica's count. */
/* train.global_batch {max: N} is kept as declared by the loader and resolved by the run: the largest
 * multiple of the chips up to N; a max below one sample per chip is an input error at load. */
static void test_global_batch_max(void **state) {
  (void)state;
  static const char model[] = "model: {dlrm: {dense_features: 4, tables: [{rows: 1000, dim: 8, pooling: 2}],"
                              " bottom_mlp: [8], top_mlp: [16, 1], interaction: {type: dot}}}";
  char text[600];
  snprintf(text, sizeof text,
           "{chip: h100-sxm, system: dgx-h100, task: train, train: {global_batch: {max: 1001}}, %s}", model);
  sl_scenario *sc = load(text);
  assert_true(sc->global_batch_max);
  assert_true(sc->global_batch == 1001);
  sl_result *r = run(sc);
  assert_true(r->feasible);
  assert_true(r->global_batch == 1000);
  assert_non_null(strstr(r->scenario_json, "\"global_batch\":1000"));
  assert_rel(r->samples_per_s * r->step_time_s, 1000, 1e-12, "samples per step");
  sl_result_free(r);
  sl_scenario_free(sc);
  snprintf(text, sizeof text,
           "chip: h100-sxm\nsystem: dgx-h100\ntask: train\ntrain: {global_batch: {max: 4}}\n%s\n", model);
  expect_error(text, "train.global_batch", 4);
}

static void test_presets(void **state) {
  (void)state;
  const struct {
    const char *name;
    double mflop;
  } p[] = {{"rank-lc-15", 14.74},
           {"rank-lc-50", 51.30},
           {"rank-mc-100", 98.88},
           {"rank-hc-500", 503.06},
           {"rank-hc-1000", 995.23}};
  for (size_t i = 0; i < SL_ARRAY_LEN(p); i++) {
    char text[200];
    snprintf(text, sizeof text,
             "{chip: mtia-2i, model: %s, task: infer, infer: {batch: 256}, precision: fp16}", p[i].name);
    sl_scenario *sc = load(text);
    close_to(dlrm_flops_per_sample(&sc->model.dlrm) / 1e6, p[i].mflop, 0.0005, p[i].name);
    sl_result *r = run(sc);
    assert_true(r->feasible);
    sl_result_free(r);
    sl_scenario_free(sc);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small_model_by_hand),
      cmocka_unit_test(test_mlperf_preset),
      cmocka_unit_test(test_zipf_H),
      cmocka_unit_test(test_hit_rate_brute_force),
      cmocka_unit_test(test_planner_memory),
      cmocka_unit_test(test_run_memory_bound),
      cmocka_unit_test(test_fits_nowhere),
      cmocka_unit_test(test_single_table_direct),
      cmocka_unit_test(test_dgx_breakdown),
      cmocka_unit_test(test_sharding_constraints),
      cmocka_unit_test(test_loader_errors),
      cmocka_unit_test(test_presets),
      cmocka_unit_test(test_global_batch_max),
      cmocka_unit_test(test_exchange_by_hand),
      cmocka_unit_test(test_planner_spreads_domains),
      cmocka_unit_test(test_planner_table_row),
      cmocka_unit_test(test_table_row_step),
      cmocka_unit_test(test_grid_step),
      cmocka_unit_test(test_evaluation_amortised),
      cmocka_unit_test(test_host_ops_by_hand),
      cmocka_unit_test(test_host_bound_step),
      cmocka_unit_test(test_default_stack),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
