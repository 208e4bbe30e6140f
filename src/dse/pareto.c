/* pareto.c — the Pareto front of points with k objectives, all maximised.
 * Sorted by the first objective (decreasing), a point can only be dominated by one before it, and
 * if it is, it is dominated by one on the front: so each point is checked against the front so
 * far, O(n log n + n * front).  Before the sort, points dominated by one of k + 1 pivots (the best
 * point by each objective and by the sum of the objectives scaled by their maxima) are dropped in
 * O(n k): they cannot be on the front, and in a sweep they are nearly all of the points. */
#include "dse/dse.h"

#include <stdlib.h>

typedef struct entry {
  const double *row;
  size_t i;
  int k;
} entry;

static int cmp(const void *pa, const void *pb) {
  const entry *a = pa, *b = pb;
  for (int j = 0; j < a->k; j++)
    if (a->row[j] != b->row[j]) return a->row[j] > b->row[j] ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

/* a dominates b: >= everywhere, > somewhere. */
static int dominates(const double *a, const double *b, int k) {
  int better = 0;
  for (int j = 0; j < k; j++) {
    if (a[j] < b[j]) return 0;
    if (a[j] > b[j]) better = 1;
  }
  return better;
}

size_t dse_pareto(const double *v, size_t n, int k, size_t *front) {
  if (n == 0) return 0;
  entry *order = malloc(n * sizeof *order);
  if (!order) return 0;
  /* pivots */
  enum { MAXP = 17 };
  size_t piv[MAXP];
  int np = 0;
  double scale[MAXP - 1];
  for (int j = 0; j < k && j < MAXP - 1; j++) {
    size_t b = 0;
    for (size_t i = 1; i < n; i++)
      if (v[i * (size_t)k + (size_t)j] > v[b * (size_t)k + (size_t)j]) b = i;
    piv[np++] = b;
    scale[j] = v[b * (size_t)k + (size_t)j];
  }
  if (k <= MAXP - 1) {
    size_t b = 0;
    double best = -1e308;
    for (size_t i = 0; i < n; i++) {
      double sum = 0;
      for (int j = 0; j < k; j++)
        sum += scale[j] > 0 ? v[i * (size_t)k + (size_t)j] / scale[j] : 0;
      if (sum > best) best = sum, b = i;
    }
    piv[np++] = b;
  }
  size_t nk = 0;
  for (size_t i = 0; i < n; i++) {
    int dom = 0;
    for (int p = 0; p < np && !dom; p++)
      dom = dominates(v + piv[p] * (size_t)k, v + i * (size_t)k, k);
    if (!dom) order[nk++] = (entry){v + i * (size_t)k, i, k};
  }
  qsort(order, nk, sizeof *order, cmp);
  size_t m = 0;
  for (size_t i = 0; i < nk; i++) {
    int dom = 0;
    for (size_t j = 0; j < m && !dom; j++)
      dom = dominates(v + front[j] * (size_t)k, order[i].row, k);
    if (!dom) front[m++] = order[i].i;
  }
  free(order);
  return m;
}
