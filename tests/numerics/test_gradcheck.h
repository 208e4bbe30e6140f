/* test_gradcheck.h — the finite-difference gradient check shared by the numerics executors' tests
 * (include after cmocka.h and numerics/numerics.h). */
#ifndef SL_TEST_GRADCHECK_H
#define SL_TEST_GRADCHECK_H

#include <math.h>
#include <string.h>

/* The model's loss on fixed inputs; with grad, its gradients into the parameter table. */
typedef double (*gc_loss_fn)(void *ud, int grad);

/* Every parameter tensor's analytic gradient (loss(ud, 1)) against central differences (h = 1e-5)
 * of loss(ud, 0): the norm-wise relative error must be <= tol.  `prefix` goes in front of the
 * tensor's name in messages; verbose prints each tensor's error. */
static inline void gradcheck_params(nm_param *p, size_t np, gc_loss_fn loss, void *ud, double tol,
                                    const char *prefix, int verbose) {
  assert_true(isfinite(loss(ud, 1)));
  size_t total = 0;
  for (size_t i = 0; i < np; i++)
    total += p[i].n;
  double *g = malloc(total * sizeof *g);
  assert_non_null(g);
  size_t off = 0;
  for (size_t i = 0; i < np; i++, off += p[i - 1].n)
    memcpy(g + off, p[i].g, p[i].n * sizeof *g);
  off = 0;
  for (size_t i = 0; i < np; i++) {
    double num = 0, den = 0;
    for (size_t j = 0; j < p[i].n; j++) {
      double w = p[i].w[j], h = 1e-5;
      p[i].w[j] = w + h;
      double lp = loss(ud, 0);
      p[i].w[j] = w - h;
      double lm = loss(ud, 0);
      p[i].w[j] = w;
      double fd = (lp - lm) / (2 * h), an = g[off + j];
      num += (fd - an) * (fd - an);
      den += fd * fd;
    }
    double rel = sqrt(num / den);
    if (verbose) print_message("%-7s gradient relative error %.3g\n", p[i].name, rel);
    if (!(rel <= tol)) fail_msg("%s%s: gradient relative error %.3g", prefix, p[i].name, rel);
    off += p[i].n;
  }
  free(g);
}

#endif
