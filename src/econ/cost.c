/* cost.c — prices and cost of ownership (docs/energy-cost.md "Cost").
 *
 * A chip position costs its die (wafer price / good dies per wafer), its package, its DRAM, its
 * board, its share of the host server and of the network; or, for a chip bought rather than
 * built, its purchase price plus the same shares.  Per hour of service: that capital over the
 * service life, the data-centre build-out per provisioned watt over the facility's life, and
 * the electricity of the power actually drawn (chips and host) times the PUE.  Every price is a
 * key of data/econ/default.yaml, overridable by a scenario's `econ:` key. */
#include "econ/econ.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double HOURS_PER_YEAR = 8766; /* 365.25 days */
static const double GIB = 1073741824.0;
static const double PI = 3.14159265358979323846;

/* ---- maps --------------------------------------------------------------------------------------- */

/* Reads a map of numeric (by_node) or named keys into m, replacing entries with the same key. */
static sl_status read_map(reader *r, yt_node *parent, const char *key, int by_node, sl_econ_map *m) {
  yt_node *v = yt_get(parent, key);
  if (!v) return SL_OK;
  rd_mark mk = rd_push(r, key);
  sl_status s = rd_map(r, v);
  for (size_t i = 0; !s && i < v->n; i++) {
    yt_pair *p = &v->pairs[i];
    rd_mark m2 = rd_push(r, p->key);
    double val = 0;
    p->used = 1;
    s = rd_scalar_double(r, p->value, 0, 1e12, &val);
    if (!s && strcmp(p->key, "default") == 0) {
      m->dflt = val;
    } else if (!s) {
      double k = 0;
      char *end = NULL;
      if (by_node) {
        k = strtod(p->key, &end);
        if (!end || *end || !(k > 0)) {
          yt_node at = *v;
          at.line = p->key_line;
          s = rd_fail(r, &at, "expected a process node in nm (e.g. 7) as the key");
        }
      }
      int j = 0;
      for (; !s && j < m->n; j++)
        if (by_node ? m->key[j] == k : strcmp(m->name[j], p->key) == 0) break;
      if (!s && j == m->n) {
        if (m->n >= SL_ECON_MAX) {
          s = rd_fail(r, v, "at most %d entries", SL_ECON_MAX);
        } else {
          m->n++;
          m->name[j] = ar_strdup(r->a, p->key);
          if (!m->name[j]) s = err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
        }
      }
      if (!s) m->key[j] = k, m->val[j] = val;
    }
    rd_pop(r, m2);
  }
  rd_pop(r, mk);
  return s;
}

double econ_lookup_node(const sl_econ_map *m, double nm) {
  if (m->n == 0) return isnan(m->dflt) ? 0 : m->dflt;
  /* sort indices by node (tiny n) */
  int idx[SL_ECON_MAX];
  for (int i = 0; i < m->n; i++)
    idx[i] = i;
  for (int i = 1; i < m->n; i++)
    for (int j = i; j > 0 && m->key[idx[j]] < m->key[idx[j - 1]]; j--) {
      int t = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = t;
    }
  if (nm <= m->key[idx[0]]) return m->val[idx[0]];
  if (nm >= m->key[idx[m->n - 1]]) return m->val[idx[m->n - 1]];
  for (int i = 1; i < m->n; i++) {
    double a = m->key[idx[i - 1]], b = m->key[idx[i]];
    if (nm <= b) {
      double va = m->val[idx[i - 1]], vb = m->val[idx[i]];
      if (va <= 0 || vb <= 0) return va + (vb - va) * (nm - a) / (b - a);
      double t = log(nm / a) / log(b / a);
      return exp(log(va) + t * (log(vb) - log(va)));
    }
  }
  return m->val[idx[m->n - 1]];
}

double econ_lookup_name(const sl_econ_map *m, const char *name) {
  for (int i = 0; name && i < m->n; i++)
    if (strcmp(m->name[i], name) == 0) return m->val[i];
  return m->dflt;
}

/* The entry whose name is the longest prefix of `name` (DRAM types: "lpddr5" -> lpddr). */
static double lookup_prefix(const sl_econ_map *m, const char *name) {
  int best = -1;
  size_t len = 0;
  for (int i = 0; name && i < m->n; i++) {
    size_t l = strlen(m->name[i]);
    if (l > len && strncmp(name, m->name[i], l) == 0) best = i, len = l;
  }
  return best >= 0 ? m->val[best] : m->dflt;
}

/* ---- loading ------------------------------------------------------------------------------------ */

static sl_status read_keys(reader *r, yt_node *t, sl_econ *e, int required) {
  const char *ign = NULL;
  SL_TRY(rd_map(r, t));
  SL_TRY(rd_string(r, t, "name", 0, &ign));
  SL_TRY(rd_string(r, t, "description", 0, &ign));
  SL_TRY(read_map(r, t, "wafer_usd", 1, &e->wafer_usd));
  SL_TRY(read_map(r, t, "defect_density_per_mm2", 1, &e->defect_density_per_mm2));
  SL_TRY(rd_double(r, t, "wafer_diameter_mm", required, 50, 1000, &e->wafer_diameter_mm));
  SL_TRY(rd_double(r, t, "yield_alpha", required, 0.1, 100, &e->yield_alpha));
  SL_TRY(rd_double(r, t, "reticle_mm2", required, 10, 1e5, &e->reticle_mm2));
  SL_TRY(read_map(r, t, "package_usd", 0, &e->package_usd));
  SL_TRY(read_map(r, t, "memory_usd_per_GB", 0, &e->memory_usd_per_GB));
  SL_TRY(rd_double(r, t, "board_usd", required, 0, 1e9, &e->board_usd));
  SL_TRY(rd_double(r, t, "board_usd_per_w", required, 0, 1e6, &e->board_usd_per_w));
  SL_TRY(rd_double(r, t, "server_usd", required, 0, 1e9, &e->server_usd));
  SL_TRY(rd_double(r, t, "server_power_w", required, 0, 1e7, &e->server_power_w));
  SL_TRY(read_map(r, t, "chips_per_server", 0, &e->chips_per_server));
  SL_TRY(rd_double(r, t, "scale_up_usd_per_GBps", required, 0, 1e9, &e->scale_up_usd_per_GBps));
  SL_TRY(rd_double(r, t, "scale_out_usd_per_GBps", required, 0, 1e9, &e->scale_out_usd_per_GBps));
  SL_TRY(rd_double(r, t, "facility_usd_per_w", required, 0, 1e6, &e->facility_usd_per_w));
  SL_TRY(rd_double(r, t, "facility_life_years", required, 0.01, 100, &e->facility_life_years));
  SL_TRY(rd_double(r, t, "service_life_years", required, 0.01, 100, &e->service_life_years));
  SL_TRY(rd_double(r, t, "electricity_usd_per_kwh", required, 0, 100, &e->electricity_usd_per_kwh));
  SL_TRY(rd_double(r, t, "pue", required, 1, 10, &e->pue));
  SL_TRY(read_map(r, t, "chip_price_usd", 0, &e->chip_price_usd));
  return rd_done(r, t);
}

sl_status econ_load(reader *r, yt_node *over, sl_econ *e) {
  memset(e, 0, sizeof *e);
  sl_econ_map *maps[] = {&e->wafer_usd,         &e->defect_density_per_mm2, &e->package_usd,
                         &e->memory_usd_per_GB, &e->chips_per_server,       &e->chip_price_usd};
  for (size_t i = 0; i < SL_ARRAY_LEN(maps); i++)
    maps[i]->dflt = NAN;
  const char *text = sl_preset_text("econ", "default");
  if (!text) return err_set(r->err, SL_ERR_INTERNAL, "", 0, "", "the econ/default preset is missing");
  yt_node *base = NULL;
  SL_TRY(yt_parse(r->a, text, strlen(text), preset_path("econ", "default"), &base, r->err));
  {
    reader r2 = *r;
    r2.path[0] = 0;
    sl_status s = read_keys(&r2, base, e, 1);
    if (s) return s;
  }
  if (e->wafer_usd.n == 0 || e->defect_density_per_mm2.n == 0)
    return err_set(r->err, SL_ERR_INTERNAL, "", 0, "",
                   "econ/default: wafer_usd and defect_density_per_mm2 are empty");
  if (!over) return SL_OK;
  yt_node *t = NULL;
  SL_TRY(spec_resolve(r, "econ", over, &t));
  return read_keys(r, t, e, 0);
}

/* ---- silicon --------------------------------------------------------------------------------------- */

double econ_dies_per_wafer(double a, double d) {
  if (!(a > 0) || !(d > 0)) return 0;
  double r = d / 2.0;
  return fmax(0.0, PI * r * r / a - PI * d / sqrt(2.0 * a));
}

double econ_yield(double a, double d0, double alpha) {
  if (!(a > 0)) return 1;
  return pow(1.0 + a * d0 / alpha, -alpha);
}

void econ_chip_cost(const sl_econ *e, const sl_chip *c, double up_GBps, double out_GBps, sl_chip_cost *o) {
  memset(o, 0, sizeof *o);
  double area = chip_area_mm2(c);
  double dies = fmax(1.0, ceil(area / e->reticle_mm2 - 1e-9));
  double a = area / dies, nm = c->process_nm;
  o->area_mm2 = area;
  o->dies = dies;
  o->dies_per_wafer = econ_dies_per_wafer(a, e->wafer_diameter_mm);
  o->yield = econ_yield(a, econ_lookup_node(&e->defect_density_per_mm2, nm), e->yield_alpha);
  double good = o->dies_per_wafer * o->yield;
  o->die_usd = good > 0 ? dies * econ_lookup_node(&e->wafer_usd, nm) / good : INFINITY;
  const sl_mem_level *d = chip_dram(c);
  int hbm = strncmp(d->name, "hbm", 3) == 0;
  double pkg = econ_lookup_name(&e->package_usd, hbm || dies > 1 ? "interposer" : "organic");
  o->package_usd = isnan(pkg) ? 0 : pkg;
  double gb = lookup_prefix(&e->memory_usd_per_GB, d->name);
  o->memory_usd = (isnan(gb) ? 0 : gb) * d->capacity_bytes / GIB;
  o->board_usd = e->board_usd + e->board_usd_per_w * c->tdp_w;
  o->chip_usd = o->die_usd + o->package_usd + o->memory_usd + o->board_usd;
  double price = econ_lookup_name(&e->chip_price_usd, c->name);
  if (!isnan(price) && price > 0) o->chip_usd = price, o->bought = 1; /* 0: built, not bought */
  double cps = econ_lookup_name(&e->chips_per_server, c->name);
  if (!(cps >= 1)) cps = 8;
  o->host_usd = e->server_usd / cps;
  o->host_w = e->server_power_w / cps;
  o->network_usd = e->scale_up_usd_per_GBps * up_GBps + e->scale_out_usd_per_GBps * out_GBps;
  o->position_usd = o->chip_usd + o->host_usd + o->network_usd;
  o->provisioned_w = c->tdp_w + o->host_w;
}

double econ_usd_per_hour(const sl_econ *e, const sl_chip_cost *cc, double chips, double avg_power_w) {
  double capex = cc->position_usd / (e->service_life_years * HOURS_PER_YEAR);
  double facility = e->facility_usd_per_w * cc->provisioned_w / (e->facility_life_years * HOURS_PER_YEAR);
  double energy = (avg_power_w + cc->host_w) * e->pue / 1000.0 * e->electricity_usd_per_kwh;
  return chips * (capex + facility + energy);
}

/* ---- JSON ------------------------------------------------------------------------------------------ */

static void json_map(jbuf *b, const char *key, const sl_econ_map *m, int by_node) {
  jb_obj_begin(b, key);
  for (int i = 0; i < m->n; i++) {
    char k[32];
    if (by_node) snprintf(k, sizeof k, "%g", m->key[i]);
    jb_num(b, by_node ? k : m->name[i], m->val[i]);
  }
  if (!isnan(m->dflt)) jb_num(b, "default", m->dflt);
  jb_obj_end(b);
}

void econ_json(jbuf *b, const char *key, const sl_econ *e) {
  jb_obj_begin(b, key);
  json_map(b, "wafer_usd", &e->wafer_usd, 1);
  json_map(b, "defect_density_per_mm2", &e->defect_density_per_mm2, 1);
  jb_num(b, "wafer_diameter_mm", e->wafer_diameter_mm);
  jb_num(b, "yield_alpha", e->yield_alpha);
  jb_num(b, "reticle_mm2", e->reticle_mm2);
  json_map(b, "package_usd", &e->package_usd, 0);
  json_map(b, "memory_usd_per_GB", &e->memory_usd_per_GB, 0);
  jb_num(b, "board_usd", e->board_usd);
  jb_num(b, "board_usd_per_w", e->board_usd_per_w);
  jb_num(b, "server_usd", e->server_usd);
  jb_num(b, "server_power_w", e->server_power_w);
  json_map(b, "chips_per_server", &e->chips_per_server, 0);
  jb_num(b, "scale_up_usd_per_GBps", e->scale_up_usd_per_GBps);
  jb_num(b, "scale_out_usd_per_GBps", e->scale_out_usd_per_GBps);
  jb_num(b, "facility_usd_per_w", e->facility_usd_per_w);
  jb_num(b, "facility_life_years", e->facility_life_years);
  jb_num(b, "service_life_years", e->service_life_years);
  jb_num(b, "electricity_usd_per_kwh", e->electricity_usd_per_kwh);
  jb_num(b, "pue", e->pue);
  json_map(b, "chip_price_usd", &e->chip_price_usd, 0);
  jb_obj_end(b);
}
