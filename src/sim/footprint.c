/* footprint.c — the memory an inference step takes on a chip, and the plan inference gets when
 * the scenario gives none: the smallest tensor-parallel degree within the scale-up domain that
 * fits, the rest replicas (scenario_parallel fills every `auto` degree from it). */
#include "sim/sim.h"

#include <math.h>
#include <string.h>

static int divides(double a, double b) {
  return b > 0 && fmod(a, b) == 0;
}

/* Inference footprint per chip: weights and KV cache split over tp (K/V heads replicated when
 * fewer than tp) and pp; the live activations of one layer; the logits. */
void inference_memory(const sl_scenario *sc, const sl_plan *p, int fused_attn, sl_memory *m) {
  memset(m, 0, sizeof *m);
  m->capacity_bytes = chip_dram_bytes(&sc->chip);
  double wb = sl_dtype_bytes[sc->w_dtype], ab = sl_dtype_bytes[sc->a_dtype];
  if (sc->model.kind == SL_MODEL_OP) {
    const sl_op_spec *o = &sc->model.op;
    if (o->type == SL_OPT_GEMM)
      m->activations_bytes = o->batch * (o->m * o->k + o->m * o->n) * ab,
      m->weights_bytes = o->batch * o->k * o->n * wb;
    else if (o->type == SL_OPT_ATTENTION)
      m->activations_bytes =
          o->batch * o->head_dim * (2 * o->seq_len * o->heads + 2 * o->kv_len * o->kv_heads) * ab +
          (fused_attn ? 0 : o->batch * o->heads * o->seq_len * o->kv_len * ab);
    else if (o->type == SL_OPT_EMBEDDING_BAG)
      m->weights_bytes = o->rows * o->dim * wb, m->activations_bytes = o->batch * o->dim * ab;
    else if (o->type < SL_OPT_ALL_REDUCE) { /* element-wise and norm ops: inputs and output */
      double moved, flops;
      op_stream_traffic(o, ab, wb, &moved, &flops);
      m->activations_bytes = moved;
    } else
      m->activations_bytes = 2 * o->bytes; /* a collective's buffers */
  } else {
    const sl_transformer *t = &sc->model.tf;
    double tp = p->tp, pp = p->pp, B = p->mb; /* sequences per replica */
    double L = (double)t->layers, h = (double)t->hidden, V = (double)t->vocab;
    double kvd = tf_kv_dim(t, tp);
    m->weights_bytes = model_weight_bytes(sc) / (tp * pp);
    double ctx = sc->prompt_len + (sc->task == SL_TASK_GENERATE ? sc->gen_len
                                   : sc->task == SL_TASK_DECODE ? 1
                                                                : 0);
    m->kv_cache_bytes = B * ctx * tf_kv_bytes_per_token(t, tp, ceil(L / pp), sc->kv_dtype);
    double T = B * (sc->task == SL_TASK_DECODE ? 1 : sc->prompt_len);
    double widest = fmax((double)(t->heads * t->head_dim) / tp + 2 * kvd, 2.0 * (double)t->ffn / tp);
    m->activations_bytes = T * (2.0 * h + widest) * ab + B * V / tp * 4.0;
    if (!fused_attn && sc->task != SL_TASK_DECODE)
      m->activations_bytes += B * (double)t->heads / tp * sc->prompt_len * sc->prompt_len * ab;
  }
  m->per_chip_bytes =
      m->weights_bytes + m->grads_bytes + m->optimizer_bytes + m->activations_bytes + m->kv_cache_bytes;
  m->fits = m->per_chip_bytes <= m->capacity_bytes;
}

double inference_fit_tp(const sl_scenario *sc, int largest) {
  if (sc->model.kind != SL_MODEL_TRANSFORMER) return 1;
  sl_scenario c = *sc;
  double heads = (double)sc->model.tf.heads, pp = sc->par.pp > 0 ? sc->par.pp : 1;
  double dom = fmin(sc->node_chips, sc->chips), best = 1;
  int fused = cost_lowering(sc).fused_attn;
  for (double t = 1; t <= dom; t *= 2) {
    if (fmod(heads, t) != 0 || fmod(sc->chips, t * pp) != 0) break;
    best = t;
    if (largest) continue;
    c.par = sc->par;
    c.par.tp = t, c.par.pp = pp, c.par.cp = 1;
    c.par.dp = sc->chips / (t * pp);
    if (!sc->batch_max && c.par.dp > sc->batch) continue; /* a replica without a sequence */
    sl_plan p = plan_of_scenario(&c);
    p.mb = c.batch = sc->batch_max ? 1 : ceil(sc->batch / p.dp);
    sl_memory m;
    inference_memory(&c, &p, fused, &m);
    if (m.fits) return t;
  }
  return largest ? best : 0;
}

sl_parallel scenario_parallel(const sl_scenario *sc) {
  if (sc->model.kind == SL_MODEL_DLRM) return (sl_parallel){sc->chips, 1, 1, 1, 1, 1, 0, 0, 0};
  if (sc->model.kind == SL_MODEL_OP) return (sl_parallel){1, 1, 1, 1, 1, 1, 0, 0, 0};
  sl_parallel p = sc->par;
  if (sc->task != SL_TASK_TRAIN) { /* inference: no search; sensible defaults */
    double heads = (double)sc->model.tf.heads;
    if (sc->parallel_default && p.tp == 1 && p.pp == 1 && p.dp == SL_AUTO) {
      /* no plan given: the smallest tp within the scale-up domain that fits, the rest replicas;
       * when none fits, the largest (the run then says by how much) */
      double t = inference_fit_tp(sc, 0);
      p.tp = t > 0 ? t : inference_fit_tp(sc, 1);
    }
    if (p.tp == SL_AUTO) {
      double t = 1;
      while (t * 2 <= fmin(sc->node_chips, sc->chips) && divides(heads, t * 2) && divides(sc->chips, t * 2))
        t *= 2;
      p.tp = t;
    }
    double *deg[] = {&p.pp, &p.cp, &p.ep, &p.vpp};
    for (int i = 0; i < 4; i++)
      if (*deg[i] == SL_AUTO) *deg[i] = 1;
    if (p.zero == SL_AUTO) p.zero = 0;
  }
  /* dp: the chips that fixed tp, pp and cp leave (check_parallel refuses a rest that is not whole) */
  if (p.dp == SL_AUTO && p.tp != SL_AUTO && p.pp != SL_AUTO && p.cp != SL_AUTO &&
      divides(sc->chips, p.tp * p.pp * p.cp))
    p.dp = sc->chips / (p.tp * p.pp * p.cp);
  return p;
}
