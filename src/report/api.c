/* api.c — small public functions for programs and language bindings (python/silica):
 * freeing the library's strings, validation and chips as JSON (include/silica.h).  They wrap the
 * internal validation runner (sim/validate.c) and chip loader (hw/chip.c); no new modelling here. */
#include "report/report.h"

#include <math.h>
#include <string.h>

void sl_free(void *p) {
  free(p);
}

const char *sl_version(void) {
  return SILICA_VERSION;
}

sl_status sl_validate_json(const char *const *paths, size_t n_paths, const char *filter, char **out,
                           sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_validate_json: out is NULL");
  *out = NULL;
  if (!paths || !n_paths) return err_set(err, SL_ERR_INPUT, "", 0, "", "no cases file given");
  sl_validation v;
  val_init(&v);
  sl_status s = val_run_files(&v, paths, n_paths, filter, err);
  if (!s && v.n == 0)
    s = filter ? err_set(err, SL_ERR_INPUT, "", 0, "", "no case name matches the filter \"%s\"", filter)
               : err_set(err, SL_ERR_INPUT, "", 0, "", "no cases in the file(s)");
  /* A case whose run hit an internal error (out of memory) has no honest figure: the call fails,
   * as the CLI exits 3, rather than hand back JSON with that case marked "error". */
  for (size_t i = 0; !s && i < v.n; i++)
    if (v.entries[i].internal)
      s = err_set(err, SL_ERR_INTERNAL, v.entries[i].file, v.entries[i].line, v.entries[i].metric,
                  "case %s: %s", v.entries[i].name, v.entries[i].message);
  if (!s) {
    val_summarise(&v);
    *out = val_json(&v);
    if (!*out) s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
  }
  val_free(&v);
  return s;
}

static double dram_Bps(const sl_chip *c) {
  return chip_dram(c)->bw_GBps * 1e9;
}

void chip_json_peaks(jbuf *b, const sl_chip *c) {
  jb_obj_begin(b, "peak_tflops");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0) jb_num(b, sl_dtype_names[f], chip_peak_flops(c, (sl_dtype)f) / 1e12);
  jb_obj_end(b);
  jb_obj_begin(b, "vector_peak_tflops");
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->vec_flops_per_cycle[f] > 0) jb_num(b, sl_dtype_names[f], chip_vec_flops(c, (sl_dtype)f) / 1e12);
  jb_obj_end(b);
}

void link_json(jbuf *b, const char *key, const sl_link *l) {
  jb_obj_begin(b, key);
  jb_num(b, "bw_GBps", l->bw_GBps);
  jb_num(b, "latency_s", l->latency_s);
  jb_num(b, "efficiency", l->efficiency);
  /* the collective figures the spec gives (0: none) */
  const struct {
    const char *key;
    double v;
  } opt[] = {{"base_latency_s", l->base_latency_s},
             {"ll_efficiency", l->ll_efficiency},
             {"switch_reduce_efficiency", l->switch_reduce_efficiency},
             {"switch_reduce_latency_s", l->switch_reduce_latency_s},
             {"p2p_efficiency", l->p2p_efficiency},
             {"p2p_latency_s", l->p2p_latency_s},
             {"p2p_peer_latency_s", l->p2p_peer_latency_s},
             {"p2p_one_shot_efficiency", l->p2p_one_shot_efficiency},
             {"p2p_one_shot_latency_s", l->p2p_one_shot_latency_s},
             {"multimem_efficiency", l->multimem_efficiency},
             {"multimem_latency_s", l->multimem_latency_s},
             {"symm_two_shot_efficiency", l->symm_two_shot_efficiency},
             {"symm_two_shot_latency_s", l->symm_two_shot_latency_s},
             {"local_GBps", l->local_GBps},
             {"mesh_links", l->mesh_links}};
  for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
    if (opt[i].v > 0) jb_num(b, opt[i].key, opt[i].v);
  if (l->oversubscription > 1) jb_num(b, "oversubscription", l->oversubscription);
  jb_obj_end(b);
}

void chip_json_ridges(jbuf *b, const char *key, const sl_chip *c) {
  jb_obj_begin(b, key);
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0)
      jb_num(b, sl_dtype_names[f], chip_peak_flops(c, (sl_dtype)f) / dram_Bps(c));
  jb_obj_end(b);
}

static void write_chip(jbuf *b, const sl_chip *c) {
  jb_obj_begin(b, NULL);
  jb_str(b, "name", c->name);
  jb_str(b, "description", c->description ? c->description : "");
  jb_num(b, "clock_ghz", c->clock_ghz);
  jb_num(b, "cores", c->cores);
  jb_num(b, "process_nm", c->process_nm);
  jb_num(b, "tdp_w", c->tdp_w);
  jb_num(b, "area_mm2", c->area_mm2 > 0 ? c->area_mm2 : NAN);
  chip_json_peaks(b, c);
  jb_arr_begin(b, "memory");
  for (int i = 0; i < c->n_mem; i++) {
    const sl_mem_level *m = &c->mem[i];
    jb_obj_begin(b, NULL);
    jb_str(b, "name", m->name ? m->name : "");
    jb_num(b, "capacity_bytes", m->capacity_bytes);
    jb_num(b, "bw_GBps", m->bw_GBps);
    jb_bool(b, "per_core", m->per_core);
    jb_obj_end(b);
  }
  jb_arr_end(b);
  jb_num(b, "dram_bytes", chip_dram_bytes(c));
  jb_num(b, "dram_bw_GBps", chip_dram(c)->bw_GBps);
  chip_json_ridges(b, "ridge_flops_per_byte", c);
  jb_bool(b, "validated", c->validated);
  jb_str(b, "validation", c->validated ? "calibrated" : "unvalidated");
  jb_str(b, "validation_note", c->validation_note ? c->validation_note : "");
  jb_obj_end(b);
}

sl_status sl_chip_json(const char *name_or_path, char **out, sl_error *err) {
  if (err) memset(err, 0, sizeof *err);
  if (!out) return err_set(err, SL_ERR_INTERNAL, "", 0, "", "sl_chip_json: out is NULL");
  *out = NULL;
  if (!name_or_path || !*name_or_path) return err_set(err, SL_ERR_INPUT, "", 0, "chip", "no chip named");
  arena a;
  ar_init(&a);
  sl_chip c;
  memset(&c, 0, sizeof c);
  sl_status s = chip_load(&a, name_or_path, NULL, &c, err);
  if (!s) energy_derive(&c, 1);
  if (!s && c.n_mem < 1)
    s = err_set(err, SL_ERR_INPUT, name_or_path, 0, "memory", "the chip has no memory levels");
  if (!s) {
    jbuf b;
    jb_init(&b);
    write_chip(&b, &c);
    if (b.oom) {
      jb_free(&b);
      s = err_set(err, SL_ERR_INTERNAL, "", 0, "", "out of memory");
    } else {
      *out = b.s;
    }
  }
  ar_free(&a);
  return s;
}
