/* run.c — the report of one run result (`silica run --json`): key figures, time per op and per
 * phase, the roofline, serving latency, memory, energy and power per chip, the plans of a plan search
 * and the breakdown as a table.  Everything is drawn from the result; nothing is re-run. */
#include "report/html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Colours of what bounds an op and of the op categories, the same in every chart of the page. */
#define BOUND_SCALE                                                                                          \
  "{'domain': ['compute', 'memory', 'network', 'latency'], 'range': ['#2f6db5', '#e07b39', '#3a9a5b', "      \
  "'#8c8c8c']}"
#define CATEGORY_SCALE                                                                                       \
  "{'domain': ['gemm', 'attention', 'elementwise', 'norm', 'embedding', 'interaction', 'collective', "       \
  "'optimizer', 'other'],"                                                                                   \
  " 'scheme': 'tableau10'}"

typedef struct oprow {
  const char *name, *phase, *category, *bound;
  double count, time_s, flops, bytes, energy_j, hit;
  char label[160];
} oprow;

static int by_time_desc(const void *pa, const void *pb) {
  const oprow *a = pa, *b = pb;
  if (a->time_s != b->time_s) return a->time_s < b->time_s ? 1 : -1;
  return 0;
}

/* The breakdown rows, most time first, each with a unique label; NULL when there are none. */
static oprow *read_ops(arena *a, yt_node *res, size_t *n_out) {
  *n_out = 0;
  yt_node *bd = jin_seq(res, "breakdown");
  if (!bd || !bd->n) return NULL;
  oprow *r = ar_alloc(a, bd->n * sizeof *r);
  if (!r) return NULL;
  size_t n = 0;
  for (size_t i = 0; i < bd->n; i++) {
    yt_node *o = bd->items[i];
    if (o->type != YT_MAP) continue;
    oprow *w = &r[n++];
    w->name = jin_str_or(o, "name", "?");
    w->phase = jin_str_or(o, "phase", "");
    w->category = jin_str_or(o, "category", "other");
    w->bound = jin_str_or(o, "bound", "");
    w->count = jin_num(o, "count");
    w->time_s = jin_num(o, "time_s");
    w->flops = jin_num(o, "flops");
    w->bytes = jin_num(o, "bytes");
    w->energy_j = jin_num(o, "energy_j");
    w->hit = jin_num(o, "sram_hit_rate");
    if (isnan(w->time_s)) w->time_s = 0;
  }
  qsort(r, n, sizeof *r, by_time_desc);
  for (size_t i = 0; i < n; i++) { /* "name", or "name (phase)" when the name repeats */
    int dup = 0;
    for (size_t j = 0; j < n; j++)
      dup |= j != i && strcmp(r[i].name, r[j].name) == 0;
    if (dup)
      snprintf(r[i].label, sizeof r[i].label, "%s (%s)", r[i].name, r[i].phase);
    else
      snprintf(r[i].label, sizeof r[i].label, "%s", r[i].name);
    for (size_t j = 0; j < i; j++)
      if (strcmp(r[i].label, r[j].label) == 0) {
        size_t l = strlen(r[i].label);
        snprintf(r[i].label + l, sizeof r[i].label - l, " #%zu", i + 1);
        break;
      }
  }
  *n_out = n;
  return r;
}

void run_model_name(yt_node *sc, char *buf, size_t size) {
  yt_node *m = jin_get(sc, "model");
  const char *name = jin_str(m, "name");
  if (name) {
    snprintf(buf, size, "%s", name);
  } else if (jin_str(m, "op")) {
    const char *op = jin_str(m, "op");
    if (strcmp(op, "gemm") == 0)
      snprintf(buf, size, "gemm %gx%gx%g", jin_num(m, "m"), jin_num(m, "n"), jin_num(m, "k"));
    else
      snprintf(buf, size, "%s", op);
  } else if (jin_get(m, "dlrm")) {
    snprintf(buf, size, "DLRM (inline)");
  } else if (jin_get(m, "transformer")) {
    snprintf(buf, size, "transformer (inline)");
  } else {
    snprintf(buf, size, "model");
  }
}

double run_chips(yt_node *res) {
  double c = jin_num(res, "scenario.system.chips");
  return isnan(c) || c < 1 ? 1 : c;
}

static void run_title(yt_node *res, char *buf, size_t size) {
  char model[200];
  run_model_name(jin_get(res, "scenario"), model, sizeof model);
  double chips = run_chips(res);
  snprintf(buf, size, "%s \xc2\xb7 %s on %g \xc3\x97 %s", model, jin_str_or(res, "scenario.task", "?"), chips,
           jin_str_or(res, "scenario.chip.name", "chip"));
}

static void run_figures(page *p, yt_node *res) {
  char v[256], a[64], b[64];
  page_figs_begin(p);
  if (!isnan(jin_num(res, "step_time_s"))) {
    unit_time(jin_num(res, "step_time_s"), v, sizeof v);
    page_fig(p, "step time", v);
  }
  static const struct {
    const char *key, *label;
  } thr[] = {{"tokens_per_s", "tokens/s"}, {"samples_per_s", "samples/s"}};
  for (size_t i = 0; i < SL_ARRAY_LEN(thr); i++) {
    char k2[64];
    snprintf(k2, sizeof k2, "%s_per_chip", thr[i].key);
    if (isnan(jin_num(res, thr[i].key))) continue;
    unit_num(jin_num(res, thr[i].key), a, sizeof a);
    unit_num(jin_num(res, k2), b, sizeof b);
    snprintf(v, sizeof v, "%s (%s per chip)", a, b);
    page_fig(p, thr[i].label, v);
  }
  if (!isnan(jin_num(res, "tpot_s"))) {
    unit_time(jin_num(res, "ttft_s"), a, sizeof a);
    unit_time(jin_num(res, "tpot_s"), b, sizeof b);
    snprintf(v, sizeof v, "%s / %s", a, b);
    page_fig(p, "TTFT / TPOT", v);
  }
  if (!isnan(jin_num(res, "mfu"))) {
    unit_pct(jin_num(res, "mfu"), a, sizeof a);
    unit_pct(jin_num(res, "hfu"), b, sizeof b);
    snprintf(v, sizeof v, "%s / %s (%.1f TFLOP/s per chip)", a, b,
             jin_num(res, "flops_per_chip_per_s") / 1e12);
    page_fig(p, "MFU / HFU", v);
  }
  if (!isnan(jin_num(res, "memory.per_chip_bytes"))) {
    unit_bytes(jin_num(res, "memory.per_chip_bytes"), a, sizeof a);
    unit_bytes(jin_num(res, "memory.capacity_bytes"), b, sizeof b);
    snprintf(v, sizeof v, "%s of %s (%s)", a, b, jin_true(res, "memory.fits") ? "fits" : "does not fit");
    page_fig(p, "memory per chip", v);
  }
  if (!isnan(jin_num(res, "energy.step_j"))) {
    unit_num(jin_num(res, "energy.step_j"), a, sizeof a);
    double jt = jin_num(res, "energy.j_per_token"), js = jin_num(res, "energy.j_per_sample");
    if (!isnan(jt))
      snprintf(v, sizeof v, "%s J per step, %.4g J per token", a, jt);
    else if (!isnan(js))
      snprintf(v, sizeof v, "%s J per step, %.4g J per sample", a, js);
    else
      snprintf(v, sizeof v, "%s J per step", a);
    double elo = jin_num(res, isnan(jt) ? "energy.j_per_sample_lo" : "energy.j_per_token_lo"),
           ehi = jin_num(res, isnan(jt) ? "energy.j_per_sample_hi" : "energy.j_per_token_hi");
    if (!isnan(elo) && !isnan(ehi)) {
      size_t n = strlen(v);
      snprintf(v + n, sizeof v - n, " (80%% interval %.4g to %.4g)", elo, ehi);
    }
    page_fig(p, "energy", v);
    double plo = jin_num(res, "energy.avg_power_lo_w_per_chip"),
           phi = jin_num(res, "energy.avg_power_hi_w_per_chip");
    if (!isnan(plo) && !isnan(phi))
      snprintf(v, sizeof v, "%.0f W per chip (uncapped %.0f W), 80%% interval %.0f to %.0f W",
               jin_num(res, "energy.avg_power_w_per_chip"), jin_num(res, "energy.uncapped_power_w_per_chip"),
               plo, phi);
    else
      snprintf(v, sizeof v, "%.0f W per chip (uncapped %.0f W)", jin_num(res, "energy.avg_power_w_per_chip"),
               jin_num(res, "energy.uncapped_power_w_per_chip"));
    page_fig(p, "power", v);
  }
  if (!isnan(jin_num(res, "cost.usd_per_hour_system"))) {
    double mt = jin_num(res, "cost.usd_per_million_tokens"),
           ms = jin_num(res, "cost.usd_per_million_samples");
    char u[48], u2[48];
    unit_usd(jin_num(res, "cost.usd_per_hour_system"), u, sizeof u);
    int n = snprintf(v, sizeof v, "%s per hour", u);
    unit_usd(isnan(mt) ? ms : mt, u2, sizeof u2);
    if (!isnan(mt))
      snprintf(v + n, sizeof v - (size_t)n, ", %s per million tokens", u2);
    else if (!isnan(ms))
      snprintf(v + n, sizeof v - (size_t)n, ", %s per million samples", u2);
    page_fig(p, "cost", v);
  }
  if (jin_get(res, "parallel")) {
    int n = snprintf(v, sizeof v, "dp %g, tp %g, pp %g, cp %g, ep %g, sp %s, zero %g, vpp %g",
                     jin_num(res, "parallel.dp"), jin_num(res, "parallel.tp"), jin_num(res, "parallel.pp"),
                     jin_num(res, "parallel.cp"), jin_num(res, "parallel.ep"),
                     jin_true(res, "parallel.sp") ? "on" : "off", jin_num(res, "parallel.zero"),
                     jin_num(res, "parallel.vpp"));
    if (strcmp(jin_str_or(res, "scenario.task", ""), "train") == 0 && n > 0 && (size_t)n < sizeof v)
      snprintf(v + n, sizeof v - (size_t)n, ", micro-batch %g", jin_num(res, "parallel.micro_batch"));
    page_fig(p, "parallel plan", v);
  }
  if (!isnan(jin_num(res, "serve.ttft_p99_s"))) {
    unit_time(jin_num(res, "serve.ttft_p99_s"), a, sizeof a);
    unit_time(jin_num(res, "serve.tpot_p99_s"), b, sizeof b);
    snprintf(v, sizeof v, "p99 TTFT %s, p99 TPOT %s, %.4g tokens/s", a, b,
             jin_num(res, "serve.throughput_tokens_per_s"));
    page_fig(p, "serving", v);
  }
  page_figs_end(p);
}

static void chart_ops(page *p, const oprow *ops, size_t n, double sum_s, time_unit u) {
  char text[512];
  double step = 0;
  for (size_t i = 0; i < n; i++)
    step += ops[i].time_s;
  snprintf(text, sizeof text,
           "Each op's time in one step (all its repeats: layers, micro-batches) on the most loaded chip, "
           "coloured by what bounds it. Hover for its FLOP, bytes and achieved TFLOP/s.");
  page_chart_begin(p, "Time per op", text, "ops", "bars");
  jb_arr_begin(&p->charts, "ops");
  for (size_t i = 0; i < n; i++) {
    const oprow *o = &ops[i];
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "label", o->label);
    page_d_str(p, "name", o->name);
    page_d_str(p, "phase", o->phase);
    page_d_str(p, "category", o->category);
    page_d_str(p, "bound", o->bound);
    page_d_num(p, "count", o->count);
    page_d_num(p, "time", o->time_s * u.per_s);
    page_d_num(p, "share", sum_s > 0 ? o->time_s / sum_s : NAN);
    page_d_num(p, "tflops", o->time_s > 0 ? o->flops / o->time_s / 1e12 : NAN);
    page_d_num(p, "flops", o->flops);
    page_d_num(p, "bytes", o->bytes);
    page_d_num(p, "energy_j", o->energy_j);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(
      p, n,
      "{'width': 760, 'height': {'step': 15}, 'data': {'name': 'ops'},"
      " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
      "  'encoding': {'y': {'field': 'label', 'type': 'nominal', 'sort': '-x', 'title': null, 'axis': "
      "{'labelLimit': 240}},"
      "   'x': {'field': 'time', 'type': 'quantitative', 'title': 'time per step (%s)'},"
      "   'color': {'field': 'bound', 'type': 'nominal', 'title': 'bound', 'scale': " BOUND_SCALE "},"
      "   'tooltip': [{'field': 'name'}, {'field': 'phase'}, {'field': 'category'}, {'field': 'count', "
      "'format': ','},"
      "    {'field': 'time', 'title': 'time (%s)', 'format': '.4~g'}, {'field': 'share', 'format': '.1%%'},"
      "    {'field': 'tflops', 'title': 'TFLOP/s', 'format': '.1f'}, {'field': 'flops', 'title': 'FLOP', "
      "'format': '.3~s'},"
      "    {'field': 'bytes', 'format': '.3~s'}, {'field': 'energy_j', 'title': 'energy (J)', 'format': "
      "'.3~g'},"
      "    {'field': 'bound'}]}}]}",
      u.name, u.name);
}

static void chart_phases(page *p, const oprow *ops, size_t n, time_unit u) {
  /* (phase, category) pairs in order of first appearance */
  const char *ph[64], *cat[64];
  double t[64];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(ops[i].time_s > 0)) continue;
    size_t j = 0;
    while (j < m && !(strcmp(ph[j], ops[i].phase) == 0 && strcmp(cat[j], ops[i].category) == 0))
      j++;
    if (j == m) {
      if (m == SL_ARRAY_LEN(ph)) continue;
      ph[m] = ops[i].phase, cat[m] = ops[i].category, t[m] = 0;
      m++;
    }
    t[j] += ops[i].time_s;
  }
  if (!m) return;
  page_chart_begin(
      p, "Time per phase",
      "The ops' times summed per phase and category. Communication that overlaps compute is counted "
      "here in full, so the bars can add up to more than the step time.",
      "phases", "segments");
  jb_arr_begin(&p->charts, "phases");
  for (size_t j = 0; j < m; j++) {
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "phase", ph[j]);
    page_d_str(p, "category", cat[j]);
    page_d_num(p, "time", t[j] * u.per_s);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(
      p, m,
      "{'width': 760, 'height': {'step': 26}, 'data': {'name': 'phases'},"
      " 'layer': [{'name': 'segments', 'mark': {'type': 'bar'},"
      "  'encoding': {'y': {'field': 'phase', 'type': 'nominal', 'title': null, 'sort': null},"
      "   'x': {'field': 'time', 'type': 'quantitative', 'stack': 'zero', 'title': 'time per step (%s)'},"
      "   'color': {'field': 'category', 'type': 'nominal', 'title': 'category', 'scale': " CATEGORY_SCALE
      "},"
      "   'tooltip': [{'field': 'phase'}, {'field': 'category'}, {'field': 'time', 'title': 'time (%s)', "
      "'format': '.4~g'}]}}]}",
      u.name, u.name);
}

static void chart_roofline(page *p, yt_node *res, const oprow *ops, size_t n) {
  size_t m = 0;
  double lo = INFINITY, hi = 0, ylo = INFINITY;
  for (size_t i = 0; i < n; i++)
    if (ops[i].flops > 0 && ops[i].bytes > 0 && ops[i].time_s > 0) {
      double ai = ops[i].flops / ops[i].bytes, y = ops[i].flops / ops[i].time_s / 1e12;
      lo = fmin(lo, ai), hi = fmax(hi, ai), ylo = fmin(ylo, y);
      m++;
    }
  if (!m) return;
  /* The roofs come from the result's "roofline" object; a result without one (an older silica) is
   * drawn without roofs. */
  yt_node *rl = jin_get(res, "roofline");
  double peak = jin_num(rl, "peak_flops_per_s") / 1e12; /* TFLOP/s */
  double bw = jin_num(rl, "dram_bw_GBps") * 1e9, l2bw = jin_num(rl, "shared_bw_GBps") * 1e9;
  const char *dt = jin_str_or(rl, "dtype", "?"), *dram = jin_str_or(rl, "dram_level", "DRAM"),
             *l2name = jin_str_or(rl, "shared_level", "SRAM");
  double ridge = jin_num(rl, "ridge_flops_per_byte");
  int roofs = peak > 0 && bw > 0 && ridge > 0;
  if (!roofs) ridge = 0;
  double x0 = (roofs ? fmin(lo, ridge) : lo) / 4, x1 = (roofs ? fmax(hi, ridge) : hi) * 4;
  char text[768];
  if (roofs)
    snprintf(
        text, sizeof text,
        "Each op at its arithmetic intensity (useful FLOP per DRAM byte) and the FLOP/s it reaches, under "
        "the %s matrix peak (%.4g TFLOP/s) and the %s bandwidth roof (%.4g GB/s; ridge at %.1f FLOP/byte). "
        "%zu of %zu ops have FLOP and bytes; the others (collectives, copies) are not placed.",
        dt, peak, dram, bw / 1e9, ridge, m, n);
  else
    snprintf(
        text, sizeof text,
        "Each op at its arithmetic intensity (useful FLOP per DRAM byte) and the FLOP/s it reaches (%zu of "
        "%zu ops; the result has no roofline figures, as from an older silica, so no roofs are drawn).",
        m, n);
  page_chart_begin(p, "Roofline", text, "roofline_ops", "points");
  jb_arr_begin(&p->charts, "roofline_ops");
  for (size_t i = 0; i < n; i++) {
    const oprow *o = &ops[i];
    if (!(o->flops > 0 && o->bytes > 0 && o->time_s > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "label", o->label);
    page_d_str(p, "category", o->category);
    page_d_str(p, "bound", o->bound);
    page_d_num(p, "intensity", o->flops / o->bytes);
    page_d_num(p, "tflops", o->flops / o->time_s / 1e12);
    page_d_num(p, "time_s", o->time_s);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  jb_arr_begin(&p->charts, "roofs");
  if (roofs) {
    char name[96];
    snprintf(name, sizeof name, "%s %.0f GB/s", dram, bw / 1e9);
    double pts[3][2] = {{x0, fmin(peak, bw * x0 / 1e12)}, {ridge, peak}, {x1, peak}};
    for (int i = 0; i < 3; i++) {
      if (i == 1 && (ridge <= x0 || ridge >= x1)) continue;
      jb_obj_begin(&p->charts, NULL);
      page_d_str(p, "roof", name);
      page_d_num(p, "intensity", pts[i][0]);
      page_d_num(p, "tflops", pts[i][1]);
      jb_obj_end(&p->charts);
    }
    if (l2bw > bw) {
      snprintf(name, sizeof name, "%s %.0f GB/s", l2name, l2bw / 1e9);
      double r2 = peak * 1e12 / l2bw;
      double q[3][2] = {{x0, fmin(peak, l2bw * x0 / 1e12)}, {r2, peak}, {x1, peak}};
      for (int i = 0; i < 3; i++) {
        if (i == 1 && (r2 <= x0 || r2 >= x1)) continue;
        jb_obj_begin(&p->charts, NULL);
        page_d_str(p, "roof", name);
        page_d_num(p, "intensity", q[i][0]);
        page_d_num(p, "tflops", q[i][1]);
        jb_obj_end(&p->charts);
      }
    }
  }
  jb_arr_end(&p->charts);
  double yhi = 0;
  for (size_t i = 0; i < n; i++)
    if (ops[i].flops > 0 && ops[i].bytes > 0 && ops[i].time_s > 0)
      yhi = fmax(yhi, ops[i].flops / ops[i].time_s / 1e12);
  double y0 = roofs ? fmin(ylo, bw * x0 / 1e12) / 2 : ylo / 4, y1 = roofs ? fmax(peak, yhi) * 2 : yhi * 4;
  page_chart_end(
      p, m,
      "{'width': 700, 'height': 420, 'data': {'name': 'roofline_ops'},"
      " 'encoding': {'x': {'field': 'intensity', 'type': 'quantitative', 'title': 'arithmetic "
      "intensity (FLOP/byte)',"
      "   'scale': {'type': 'log', 'domain': [%.6g, %.6g]}},"
      "  'y': {'field': 'tflops', 'type': 'quantitative', 'title': 'achieved TFLOP/s', 'scale': "
      "{'type': 'log', 'domain': [%.6g, %.6g]}}},"
      " 'layer': [{'data': {'name': 'roofs'}, 'mark': {'type': 'line', 'color': '#555', 'clip': true},"
      "   'encoding': {'strokeDash': {'field': 'roof', 'type': 'nominal', 'title': 'roof'}, 'tooltip': "
      "[{'field': 'roof'}]}},"
      "  {'name': 'points', 'mark': {'type': 'point', 'filled': true, 'size': 70, 'opacity': 0.85},"
      "   'encoding': {'color': {'field': 'category', 'type': 'nominal', 'title': 'category', "
      "'scale': " CATEGORY_SCALE "},"
      "    'shape': {'field': 'bound', 'type': 'nominal', 'title': 'bound'},"
      "    'tooltip': [{'field': 'label', 'title': 'op'}, {'field': 'category'}, {'field': 'bound'},"
      "     {'field': 'intensity', 'title': 'FLOP/byte', 'format': '.4~g'}, {'field': 'tflops', "
      "'title': 'TFLOP/s', 'format': '.4~g'},"
      "     {'field': 'time_s', 'title': 'time (s)', 'format': '.4~g'}]}}]}",
      x0, x1, y0, y1);
}

static void chart_memory(page *p, yt_node *res) {
  static const struct {
    const char *key, *label;
  } parts[] = {{"weights_bytes", "weights"},
               {"grads_bytes", "gradients"},
               {"optimizer_bytes", "optimizer state"},
               {"activations_bytes", "activations"},
               {"kv_cache_bytes", "KV cache"}};
  yt_node *mem = jin_get(res, "memory");
  double cap = jin_num(mem, "capacity_bytes");
  size_t m = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(parts); i++)
    m += jin_num(mem, parts[i].key) > 0;
  if (!m) return;
  char text[256], a[48], b[48];
  unit_bytes(jin_num(mem, "per_chip_bytes"), a, sizeof a);
  unit_bytes(cap, b, sizeof b);
  snprintf(text, sizeof text, "What the most loaded chip holds: %s of %s (%s).", a, b,
           jin_true(mem, "fits") ? "fits" : "does not fit");
  page_chart_begin(p, "Memory per chip", text, "memory", "parts");
  jb_arr_begin(&p->charts, "memory");
  for (size_t i = 0; i < SL_ARRAY_LEN(parts); i++) {
    double v = jin_num(mem, parts[i].key);
    if (!(v > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "what", "per chip");
    page_d_str(p, "part", parts[i].label);
    page_d_num(p, "order", (double)i);
    page_d_num(p, "gib", v / 1073741824.0);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  jb_arr_begin(&p->charts, "capacity");
  if (cap > 0) {
    jb_obj_begin(&p->charts, NULL);
    page_d_num(p, "gib", cap / 1073741824.0);
    page_d_str(p, "label", "capacity");
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(
      p, m,
      "{'width': 760, 'height': 60, 'data': {'name': 'memory'},"
      " 'layer': [{'name': 'parts', 'mark': {'type': 'bar'},"
      "   'encoding': {'y': {'field': 'what', 'type': 'nominal', 'title': null},"
      "    'x': {'field': 'gib', 'type': 'quantitative', 'stack': 'zero', 'title': 'GiB'},"
      "    'order': {'field': 'order'},"
      "    'color': {'field': 'part', 'type': 'nominal', 'title': null, 'sort': {'field': 'order'},"
      "      'scale': {'domain': ['weights', 'gradients', 'optimizer state', 'activations', 'KV cache'],"
      "                'range': ['#2f6db5', '#7aa6da', '#e07b39', '#3a9a5b', '#b07aa1']}},"
      "    'tooltip': [{'field': 'part'}, {'field': 'gib', 'title': 'GiB', 'format': '.2f'}]}},"
      "  {'data': {'name': 'capacity'}, 'mark': {'type': 'rule', 'color': '#c0392b', 'strokeWidth': 2},"
      "   'encoding': {'x': {'field': 'gib', 'type': 'quantitative'}, 'tooltip': [{'field': 'label'}, "
      "{'field': 'gib', 'title': 'GiB', 'format': '.2f'}]}}]}");
}

static void chart_energy(page *p, yt_node *res, const oprow *ops, size_t n) {
  if (!jin_get(res, "energy")) {
    if (jin_true(res, "feasible"))
      page_note(p, "note",
                "This result has no energy figures (this version does not compute them for this kind of "
                "scenario, or an older silica made the result), so there is no energy chart.");
    return;
  }
  const char *cat[32];
  double e[32];
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(ops[i].energy_j > 0)) continue;
    size_t j = 0;
    while (j < m && strcmp(cat[j], ops[i].category) != 0)
      j++;
    if (j == m) {
      if (m == SL_ARRAY_LEN(cat)) continue;
      cat[m] = ops[i].category, e[m++] = 0;
    }
    e[j] += ops[i].energy_j;
  }
  double total = 0;
  for (size_t j = 0; j < m; j++)
    total += e[j];
  if (m) {
    char text[512];
    snprintf(
        text, sizeof text,
        "Energy of one chip's ops in one step by category (%.4g J in all: dynamic energy of MACs, SRAM, DRAM "
        "and links, plus static power over each op's time). The whole system uses %.4g J per step.",
        total, jin_num(res, "energy.step_j"));
    page_chart_begin(p, "Energy per component", text, "energy", "bars");
    jb_arr_begin(&p->charts, "energy");
    for (size_t j = 0; j < m; j++) {
      jb_obj_begin(&p->charts, NULL);
      page_d_str(p, "category", cat[j]);
      page_d_num(p, "energy_j", e[j]);
      page_d_num(p, "share", total > 0 ? e[j] / total : NAN);
      jb_obj_end(&p->charts);
    }
    jb_arr_end(&p->charts);
    page_chart_end(
        p, m,
        "{'width': 760, 'height': {'step': 22}, 'data': {'name': 'energy'},"
        " 'layer': [{'name': 'bars', 'mark': {'type': 'bar', 'color': '#3a9a5b'},"
        "  'encoding': {'y': {'field': 'category', 'type': 'nominal', 'sort': '-x', 'title': null},"
        "   'x': {'field': 'energy_j', 'type': 'quantitative', 'title': 'energy per step, one chip (J)'},"
        "   'tooltip': [{'field': 'category'}, {'field': 'energy_j', 'title': 'J', 'format': '.4~g'},"
        "    {'field': 'share', 'format': '.1%%'}]}}]}");
  }
  double avg = jin_num(res, "energy.avg_power_w_per_chip"),
         unc = jin_num(res, "energy.uncapped_power_w_per_chip");
  double tdp = jin_num(res, "scenario.chip.tdp_w");
  struct {
    const char *what;
    double w;
  } pw[] = {{"average", avg}, {"uncapped (full clock)", unc}, {"TDP", tdp}};
  size_t k = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(pw); i++)
    k += pw[i].w > 0;
  if (!k) return;
  char text[256];
  double ratio = jin_num(res, "energy.clock_ratio");
  if (ratio < 1)
    snprintf(
        text, sizeof text,
        "Power per chip against its TDP: over it at full clock, so the chip runs at %.0f%% of its clock.",
        100 * ratio);
  else
    snprintf(text, sizeof text, "Power per chip against its TDP.");
  page_chart_begin(p, "Power per chip", text, "power", "bars");
  jb_arr_begin(&p->charts, "power");
  for (size_t i = 0; i < SL_ARRAY_LEN(pw); i++) {
    if (!(pw[i].w > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "what", pw[i].what);
    page_d_num(p, "w", pw[i].w);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(p, k,
                 "{'width': 760, 'height': {'step': 22}, 'data': {'name': 'power'},"
                 " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
                 "  'encoding': {'y': {'field': 'what', 'type': 'nominal', 'sort': null, 'title': null},"
                 "   'x': {'field': 'w', 'type': 'quantitative', 'title': 'W per chip'},"
                 "   'color': {'field': 'what', 'type': 'nominal', 'legend': null,"
                 "     'scale': {'domain': ['average', 'uncapped (full clock)', 'TDP'], 'range': ['#2f6db5', "
                 "'#7aa6da', '#c0392b']}},"
                 "   'tooltip': [{'field': 'what'}, {'field': 'w', 'title': 'W', 'format': '.4~g'}]}}]}");
}

/* Serving: the latency percentiles of the simulated requests. */
/* A training campaign: its expected time split into useful steps, checkpoints, lost work and restarts,
 * and below it the Monte Carlo's P10-P90 band with its median. */
static void chart_campaign(page *p, yt_node *res) {
  double T = jin_num(res, "campaign.time_to_train_s");
  if (!(T > 0)) return;
  static const struct {
    const char *key, *part;
  } q[] = {{"campaign.compute_s", "steps"},
           {"campaign.checkpoint_s", "checkpoints"},
           {"campaign.lost_work_s", "lost work"},
           {"campaign.restart_s", "restarts"}};
  char text[400];
  snprintf(text, sizeof text,
           "%.4g tokens in %.4g days on up to %g chips: %.4g chip-hours, %.1f%% goodput (the steps' share of "
           "the time), %.4g expected interruptions, %.4g MWh at the facility. The band: %g Monte Carlo draws of "
           "the failures, P10 to P90, and the median.",
           jin_num(res, "campaign.tokens"), T / 86400, jin_num(res, "campaign.chips"),
           jin_num(res, "campaign.chip_hours"), 100 * jin_num(res, "campaign.goodput"),
           jin_num(res, "campaign.interruptions"), jin_num(res, "campaign.energy_mwh"),
           jin_num(res, "campaign.trials"));
  page_chart_begin(p, "Training campaign", text, "campaign", "parts");
  jb_arr_begin(&p->charts, "campaign");
  size_t m = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
    double v = jin_num(res, q[i].key);
    if (!(v >= 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "row", "expected");
    page_d_str(p, "part", q[i].part);
    page_d_num(p, "order", (double)i);
    page_d_num(p, "days", v / 86400);
    jb_obj_end(&p->charts);
    m++;
  }
  jb_arr_end(&p->charts);
  jb_arr_begin(&p->charts, "campaign_band");
  double p10 = jin_num(res, "campaign.time_p10_s"), p50 = jin_num(res, "campaign.time_p50_s"),
         p90 = jin_num(res, "campaign.time_p90_s");
  if (p10 > 0 && p90 > 0) {
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "row", "Monte Carlo");
    page_d_num(p, "p10", p10 / 86400);
    page_d_num(p, "p50", p50 / 86400);
    page_d_num(p, "p90", p90 / 86400);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(
      p, m,
      "{'width': 700, 'height': {'step': 34},"
      " 'layer': [{'name': 'parts', 'data': {'name': 'campaign'}, 'mark': {'type': 'bar'},"
      "  'encoding': {'y': {'field': 'row', 'type': 'nominal', 'title': null, 'sort': ['expected', 'Monte Carlo']},"
      "   'x': {'field': 'days', 'type': 'quantitative', 'stack': 'zero', 'title': 'days'},"
      "   'order': {'field': 'order'},"
      "   'color': {'field': 'part', 'type': 'nominal', 'title': 'time', 'sort': ['steps', 'checkpoints', "
      "'lost work', 'restarts']},"
      "   'tooltip': [{'field': 'part'}, {'field': 'days', 'format': '.4~g'}]}},"
      "  {'data': {'name': 'campaign_band'}, 'mark': {'type': 'rule', 'strokeWidth': 8, 'color': '#888'},"
      "   'encoding': {'y': {'field': 'row', 'type': 'nominal', 'sort': ['expected', 'Monte Carlo']},"
      "    'x': {'field': 'p10', 'type': 'quantitative'}, 'x2': {'field': 'p90'},"
      "    'tooltip': [{'field': 'p10', 'title': 'P10 (days)', 'format': '.4~g'}, {'field': 'p50', 'title': "
      "'P50 (days)', 'format': '.4~g'}, {'field': 'p90', 'title': 'P90 (days)', 'format': '.4~g'}]}},"
      "  {'data': {'name': 'campaign_band'}, 'mark': {'type': 'tick', 'color': '#000', 'thickness': 2},"
      "   'encoding': {'y': {'field': 'row', 'type': 'nominal', 'sort': ['expected', 'Monte Carlo']},"
      "    'x': {'field': 'p50', 'type': 'quantitative'}}}]}");
}

static void chart_serve(page *p, yt_node *res) {
  static const struct {
    const char *key, *metric, *pct;
  } q[] = {{"serve.ttft_p50_s", "time to first token", "p50"},
           {"serve.ttft_p90_s", "time to first token", "p90"},
           {"serve.ttft_p99_s", "time to first token", "p99"},
           {"serve.tpot_p50_s", "time per output token", "p50"},
           {"serve.tpot_p90_s", "time per output token", "p90"},
           {"serve.tpot_p99_s", "time per output token", "p99"}};
  size_t m = 0;
  double hi = 0;
  for (size_t i = 0; i < SL_ARRAY_LEN(q); i++)
    if (jin_num(res, q[i].key) > 0) m++, hi = fmax(hi, jin_num(res, q[i].key));
  if (!m) return;
  time_unit u = unit_for_time(hi);
  char text[320];
  snprintf(text, sizeof text,
           "Percentiles over the %g simulated requests arriving at %.4g per second: %.4g tokens/s, %.4g "
           "requests/s "
           "within the latency targets.",
           jin_num(res, "serve.requests"), jin_num(res, "serve.arrival_rate_per_s"),
           jin_num(res, "serve.throughput_tokens_per_s"), jin_num(res, "serve.goodput_requests_per_s"));
  page_chart_begin(p, "Serving latency", text, "latency", "bars");
  jb_arr_begin(&p->charts, "latency");
  for (size_t i = 0; i < SL_ARRAY_LEN(q); i++) {
    double v = jin_num(res, q[i].key);
    if (!(v > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    page_d_str(p, "metric", q[i].metric);
    page_d_str(p, "percentile", q[i].pct);
    page_d_num(p, "time", v * u.per_s);
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(
      p, m,
      "{'height': 220, 'width': 300, 'data': {'name': 'latency'},"
      " 'layer': [{'name': 'bars', 'mark': {'type': 'bar'},"
      "  'encoding': {'x': {'field': 'metric', 'type': 'nominal', 'title': null, 'axis': {'labelAngle': 0}},"
      "   'xOffset': {'field': 'percentile', 'type': 'nominal', 'sort': ['p50', 'p90', 'p99']},"
      "   'y': {'field': 'time', 'type': 'quantitative', 'title': 'latency (%s)'},"
      "   'color': {'field': 'percentile', 'type': 'nominal', 'sort': ['p50', 'p90', 'p99'], 'scale': "
      "{'scheme': 'blues'}},"
      "   'tooltip': [{'field': 'metric'}, {'field': 'percentile'}, {'field': 'time', 'title': 'latency "
      "(%s)', 'format': '.4~g'}]}}]}",
      u.name, u.name);
}

/* The latency-throughput curve (serve.curve): TTFT and TPOT percentiles against the arrival rate,
 * one point per rate and percentile, and the throughput, one point per rate. */
static void chart_curve(page *p, yt_node *res) {
  yt_node *c = jin_seq(res, "serve.curve");
  if (!c || !c->n) return;
  static const struct {
    const char *title, *text, *key, *ytitle;
  } charts[] = {
      {"Time to first token against arrival rate",
       "Percentiles of the time to the first token, each rate a full simulation of the requests.", "ttft",
       "time to first token"},
      {"Time per output token against arrival rate",
       "Percentiles of the time per output token after the first, each rate a full simulation.", "tpot",
       "time per output token"},
  };
  static const char *const pct[] = {"p50", "p90", "p99"};
  for (size_t k = 0; k < SL_ARRAY_LEN(charts); k++) {
    size_t rows = 0;
    double hi = 0;
    char key[32];
    for (size_t i = 0; i < c->n; i++)
      for (size_t j = 0; j < 3; j++) {
        snprintf(key, sizeof key, "%s_%s_s", charts[k].key, pct[j]);
        double v = jin_num(c->items[i], key);
        if (v > 0 && jin_num(c->items[i], "arrival_rate_per_s") > 0) rows++, hi = fmax(hi, v);
      }
    if (!rows) continue;
    time_unit u = unit_for_time(hi);
    char ds[32];
    snprintf(ds, sizeof ds, "curve_%s", charts[k].key);
    page_chart_begin(p, charts[k].title, charts[k].text, ds, "points");
    jb_arr_begin(&p->charts, ds);
    for (size_t i = 0; i < c->n; i++)
      for (size_t j = 0; j < 3; j++) {
        snprintf(key, sizeof key, "%s_%s_s", charts[k].key, pct[j]);
        double v = jin_num(c->items[i], key), rate = jin_num(c->items[i], "arrival_rate_per_s");
        if (!(v > 0 && rate > 0)) continue;
        jb_obj_begin(&p->charts, NULL);
        page_d_str(p, "percentile", pct[j]);
        page_d_num(p, "rate", rate);
        page_d_num(p, "time", v * u.per_s);
        jb_obj_end(&p->charts);
      }
    jb_arr_end(&p->charts);
    page_chart_end(
        p, rows,
        "{'width': 700, 'height': 280, 'data': {'name': '%s'},"
        " 'encoding': {'x': {'field': 'rate', 'type': 'quantitative', 'title': 'arrival rate (requests/s)'},"
        "  'y': {'field': 'time', 'type': 'quantitative', 'title': '%s (%s)', 'scale': {'type': 'log'}},"
        "  'color': {'field': 'percentile', 'type': 'nominal', 'sort': ['p50', 'p90', 'p99'], 'title': null}},"
        " 'layer': [{'mark': {'type': 'line'}}, {'name': 'points', 'mark': {'type': 'point', 'filled': true, "
        "'size': 70},"
        "  'encoding': {'tooltip': [{'field': 'percentile'}, {'field': 'rate', 'title': 'requests/s', 'format': "
        "'.4~g'}, {'field': 'time', 'title': '%s', 'format': '.4~g'}]}}]}",
        ds, charts[k].ytitle, u.name, u.name);
  }
  size_t rows = 0;
  for (size_t i = 0; i < c->n; i++)
    rows += jin_num(c->items[i], "throughput_tokens_per_s") > 0 && jin_num(c->items[i], "arrival_rate_per_s") > 0;
  if (!rows) return;
  page_chart_begin(p, "Throughput against arrival rate",
                   "Output tokens per second, and the requests per second that meet the latency targets "
                   "(goodput, in the tooltip), at each arrival rate.",
                   "curve_throughput", "points");
  jb_arr_begin(&p->charts, "curve_throughput");
  for (size_t i = 0; i < c->n; i++) {
    double t = jin_num(c->items[i], "throughput_tokens_per_s"), rate = jin_num(c->items[i], "arrival_rate_per_s");
    if (!(t > 0 && rate > 0)) continue;
    jb_obj_begin(&p->charts, NULL);
    page_d_num(p, "rate", rate);
    page_d_num(p, "throughput", t);
    page_d_num(p, "goodput", jin_num(c->items[i], "goodput_requests_per_s"));
    jb_obj_end(&p->charts);
  }
  jb_arr_end(&p->charts);
  page_chart_end(p, rows,
                 "{'width': 700, 'height': 280, 'data': {'name': 'curve_throughput'},"
                 " 'encoding': {'x': {'field': 'rate', 'type': 'quantitative', 'title': 'arrival rate "
                 "(requests/s)'},"
                 "  'y': {'field': 'throughput', 'type': 'quantitative', 'title': 'throughput (tokens/s)'}},"
                 " 'layer': [{'mark': {'type': 'line'}}, {'name': 'points', 'mark': {'type': 'point', 'filled': "
                 "true, 'size': 70},"
                 "  'encoding': {'tooltip': [{'field': 'rate', 'title': 'requests/s', 'format': '.4~g'},"
                 " {'field': 'throughput', 'title': 'tokens/s', 'format': '.4~g'},"
                 " {'field': 'goodput', 'title': 'goodput (requests/s)', 'format': '.4~g'}]}}]}");
}

static void table_ops(page *p, const oprow *ops, size_t n, double sum_s) {
  static const char *const cols[] = {"op",     "phase",    "category", "#count",      "#time",
                                     "#share", "#TFLOP/s", "#bytes",   "#energy (J)", "bound"};
  page_raw(&p->body, "<details open><summary>Breakdown table</summary>\n");
  page_table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < n; i++) {
    const oprow *o = &ops[i];
    char t[48], s[48];
    page_raw(&p->body, "<tr>");
    page_td(p, o->name, 0);
    page_td(p, o->phase, 0);
    page_td(p, o->category, 0);
    page_td_num(p, o->count);
    unit_time(o->time_s, t, sizeof t);
    page_td(p, t, 1);
    unit_pct(sum_s > 0 ? o->time_s / sum_s : NAN, s, sizeof s);
    page_td(p, s, 1);
    page_td_num(p, o->time_s > 0 ? o->flops / o->time_s / 1e12 : NAN);
    unit_bytes(o->bytes, t, sizeof t);
    page_td(p, t, 1);
    page_td_num(p, o->energy_j);
    page_td(p, o->bound, 0);
    page_raw(&p->body, "</tr>\n");
  }
  page_table_end(p);
  page_raw(&p->body, "</details>\n");
}

static void table_plans(page *p, yt_node *res) {
  yt_node *plans = jin_seq(res, "plans");
  if (!plans || !plans->n) return;
  static const char *const cols[] = {"#dp",        "#tp",   "#pp",          "#cp",          "#ep",
                                     "sp",         "#zero", "#vpp",         "#micro-batch", "recompute",
                                     "#step time", "#MFU",  "#GiB per chip"};
  page_section(p, "Best plans of the search", "The fastest parallel plans found (run --top N keeps N).");
  page_table_begin(p, cols, SL_ARRAY_LEN(cols));
  for (size_t i = 0; i < plans->n; i++) {
    yt_node *t = plans->items[i];
    char s[48];
    page_raw(&p->body, "<tr>");
    static const char *const k[] = {"dp", "tp", "pp", "cp", "ep"};
    for (size_t j = 0; j < SL_ARRAY_LEN(k); j++)
      page_td_num(p, jin_num(t, k[j]));
    page_td(p, jin_true(t, "sp") ? "on" : "off", 0);
    page_td_num(p, jin_num(t, "zero"));
    page_td_num(p, jin_num(t, "vpp"));
    page_td_num(p, jin_num(t, "micro_batch"));
    page_td(p, jin_str_or(t, "recompute", ""), 0);
    unit_time(jin_num(t, "step_time_s"), s, sizeof s);
    page_td(p, s, 1);
    unit_pct(jin_num(t, "mfu"), s, sizeof s);
    page_td(p, s, 1);
    page_td_num(p, jin_num(t, "per_chip_bytes") / 1073741824.0);
    page_raw(&p->body, "</tr>\n");
  }
  page_table_end(p);
}

sl_status report_run(page *p, arena *a, yt_node *res) {
  run_title(res, p->title, sizeof p->title);
  yt_node *sc = jin_get(res, "scenario");
  snprintf(p->sub, sizeof p->sub,
           "precision %s (weights) / %s (activations) / %s (KV) \xc2\xb7 stack %s \xc2\xb7 silica %s",
           jin_str_or(sc, "precision.weights", "?"), jin_str_or(sc, "precision.activations", "?"),
           jin_str_or(sc, "precision.kv", "?"), jin_str_or(sc, "stack.name", "inline"),
           jin_str_or(res, "silica_version", "?"));
  run_figures(p, res);
  size_t n = 0;
  oprow *ops = read_ops(a, res, &n);
  if (!ops && jin_seq(res, "breakdown") && jin_seq(res, "breakdown")->n) return SL_ERR_INTERNAL;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += ops[i].time_s;
  double tmax = 0;
  for (size_t i = 0; i < n; i++)
    tmax = fmax(tmax, ops[i].time_s);
  if (!jin_true(res, "feasible")) {
    char text[700];
    snprintf(text, sizeof text, "This scenario cannot run: %s", jin_str_or(res, "reason", "no reason given"));
    page_note(p, "warn", text);
  }
  if (n) {
    chart_ops(p, ops, n, sum, unit_for_time(tmax));
    chart_phases(p, ops, n, unit_for_time(sum)); /* no phase takes longer than all the ops */
    chart_roofline(p, res, ops, n);
  }
  chart_serve(p, res);
  chart_curve(p, res);
  chart_campaign(p, res);
  chart_memory(p, res);
  chart_energy(p, res, ops, n);
  table_plans(p, res);
  if (n) table_ops(p, ops, n, sum);
  return SL_OK;
}
