/* strategy.c — search strategies behind one ask/tell interface (Timeloop's next()/report()):
 *   grid          every point of the lattice, the last parameter varying fastest;
 *   random        `count` points drawn uniformly, point i from its own generator (seed, i);
 *   evolutionary  generations of `population` points: the first drawn as random, each next one
 *                 bred from an elite archive (the best `population` points told so far) by binary
 *                 tournament, uniform crossover and +-1-step mutation, each child from its own
 *                 generator (seed, generation, child).
 * A point's proposal depends only on the sweep and on the results told before its generation, so
 * replaying stored results reproduces the same points (resume) whatever the batch size. */
#include "dse/dse.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct elite {
  long idx;
  double fit;
  int vi[DSE_MAX_PARAMS];
} elite;

struct dse_strategy {
  const dse_sweep *sw;
  long total, next, told;
  /* evolutionary */
  long gen, gen_start, P;
  int (*pop)[DSE_MAX_PARAMS]; /* the current generation's proposals */
  elite *arch;
  long n_arch;
};

static unsigned long long splitmix(unsigned long long *x) {
  unsigned long long z = (*x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static unsigned long long rng_of(unsigned long long seed, unsigned long long a, unsigned long long b) {
  unsigned long long x = seed ^ 0x5851F42D4C957F2DULL;
  splitmix(&x);
  x ^= a * 0xD1B54A32D192ED03ULL;
  splitmix(&x);
  x ^= b * 0x8CB92BA72F3D8DD7ULL;
  splitmix(&x);
  return x;
}

static int uniform(unsigned long long *x, int n) {
  return (int)(splitmix(x) % (unsigned long long)n);
}

double dse_fitness(const dse_sweep *sw, const dse_point *p) {
  if (!p->feasible) return -INFINITY;
  double f = p->obj[sw->obj[0]];
  return isfinite(f) ? f : -INFINITY;
}

dse_strategy *dse_strategy_new(const dse_sweep *sw) {
  dse_strategy *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->sw = sw;
  st->total = (long)sw->total;
  if (sw->strategy == DSE_EVOLUTIONARY) {
    st->P = sw->population;
    st->pop = calloc((size_t)st->P, sizeof *st->pop);
    st->arch = calloc((size_t)st->P, sizeof *st->arch);
    if (!st->pop || !st->arch) {
      dse_strategy_free(st);
      return NULL;
    }
  }
  return st;
}

void dse_strategy_free(dse_strategy *st) {
  if (!st) return;
  free(st->pop);
  free(st->arch);
  free(st);
}

static void random_point(const dse_sweep *sw, unsigned long long x, int *vi) {
  for (int i = 0; i < sw->n_params; i++)
    vi[i] = uniform(&x, sw->params[i].n);
}

static const elite *tournament(dse_strategy *st, unsigned long long *x) {
  const elite *a = &st->arch[uniform(x, (int)st->n_arch)], *b = &st->arch[uniform(x, (int)st->n_arch)];
  return b->fit > a->fit || (b->fit == a->fit && b->idx < a->idx) ? b : a;
}

/* Breeds generation st->gen into st->pop. */
static void breed(dse_strategy *st) {
  const dse_sweep *sw = st->sw;
  int any = st->n_arch > 0 && isfinite(st->arch[0].fit);
  double pm = fmax(1.0 / sw->n_params, 0.2);
  for (long j = 0; j < st->P; j++) {
    unsigned long long x = rng_of(sw->seed, (unsigned long long)st->gen + 1, (unsigned long long)j);
    int *c = st->pop[j];
    if (!any) { /* nothing feasible yet: keep exploring */
      random_point(sw, x, c);
      continue;
    }
    const elite *a = tournament(st, &x), *b = tournament(st, &x);
    for (int i = 0; i < sw->n_params; i++) {
      int n = sw->params[i].n;
      c[i] = (splitmix(&x) & 1) ? a->vi[i] : b->vi[i];
      double u = (double)(splitmix(&x) >> 11) * 0x1.0p-53;
      if (u < pm && n > 1) {
        if (uniform(&x, 10) == 0) {
          c[i] = uniform(&x, n); /* a long jump now and then */
        } else {
          int d = (splitmix(&x) & 1) ? 1 : -1;
          c[i] = c[i] + d < 0 || c[i] + d >= n ? c[i] - d : c[i] + d;
        }
      }
    }
  }
}

long dse_ask(dse_strategy *st, dse_point *out, long max) {
  const dse_sweep *sw = st->sw;
  long n = 0;
  while (n < max && st->next < st->total) {
    dse_point *p = &out[n];
    memset(p->vi, 0, sizeof p->vi);
    p->idx = st->next;
    if (sw->strategy == DSE_GRID) {
      long r = st->next;
      for (int i = sw->n_params - 1; i >= 0; i--) {
        p->vi[i] = (int)(r % sw->params[i].n);
        r /= sw->params[i].n;
      }
    } else if (sw->strategy == DSE_RANDOM) {
      random_point(sw, rng_of(sw->seed, 0, (unsigned long long)st->next), p->vi);
    } else {
      long j = st->next - st->gen_start;
      if (j >= st->P) { /* the generation is all proposed: the next needs every result */
        if (st->told < st->next) break;
        st->gen++;
        st->gen_start = st->next;
        j = 0;
        if (st->gen > 0) breed(st);
      }
      if (st->gen == 0) random_point(sw, rng_of(sw->seed, 0, (unsigned long long)st->next), st->pop[j]);
      memcpy(p->vi, st->pop[j], sizeof p->vi[0] * (size_t)sw->n_params);
    }
    st->next++;
    n++;
  }
  return n;
}

void dse_tell(dse_strategy *st, const dse_point *p) {
  st->told++;
  if (st->sw->strategy != DSE_EVOLUTIONARY) return;
  double f = dse_fitness(st->sw, p);
  /* insert into the archive, kept sorted by fitness (then index) */
  long pos = st->n_arch;
  while (pos > 0 && (st->arch[pos - 1].fit < f))
    pos--;
  if (pos >= st->P) return;
  long last = st->n_arch < st->P ? st->n_arch : st->P - 1;
  memmove(&st->arch[pos + 1], &st->arch[pos], (size_t)(last - pos) * sizeof *st->arch);
  st->arch[pos].idx = p->idx;
  st->arch[pos].fit = f;
  memcpy(st->arch[pos].vi, p->vi, sizeof p->vi);
  if (st->n_arch < st->P) st->n_arch++;
}

int dse_done(const dse_strategy *st) {
  return st->next >= st->total && st->told >= st->total;
}
