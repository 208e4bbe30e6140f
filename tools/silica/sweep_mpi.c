/* sweep_mpi.c — `mpirun -n N silica sweep ...`: each batch the strategy proposes on rank 0 is cut
 * into N contiguous ranges, one per rank, sized by how fast each rank evaluated the last batch
 * (rank 0 also writes the database on a thread, so it takes a smaller share); each rank gets its
 * points' questions (sl_sweep_asks_get: indices and parameter choices, a tenth of a result), evaluates them
 * and sends the results back in place; rank 0 writes the database.  A point's result does not depend on which
 * rank evaluates it, so the database is the same as a run in one process.  Built into silica when CMake finds
 * MPI (SILICA_MPI). */
#include "sweep_mpi.h"
#include "cli.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RANKS 4096

typedef struct mpi_ctx {
  int rank, size;
  size_t ps, as;          /* bytes of a point (result) and of its question (sl_sweep_point_size, _ask_size) */
  double rate[MAX_RANKS]; /* points per second each rank evaluated in the last batch (rank 0) */
  int counts[MAX_RANKS], displs[MAX_RANKS];   /* bytes of results per rank */
  int qcounts[MAX_RANKS], qdispls[MAX_RANKS]; /* bytes of questions per rank */
  char *q;                                    /* rank 0: the batch's questions */
  double t_begin;                             /* rank 0: when the batch was handed out */
  long qcap;
} mpi_ctx;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* This rank's range of a batch: evaluates it; returns the seconds it took, negative on an error. */
static double eval_range(sl_sweep_worker *wk, void *pts, long n, sl_error *err) {
  double t0 = now_s();
  if (sl_sweep_worker_eval(wk, pts, (size_t)n, err)) return -1;
  return now_s() - t0;
}

/* The byte counts and offsets of each rank's range of n points, proportional to the rates. */
static void cut(mpi_ctx *c, long n) {
  double total = 0;
  for (int r = 0; r < c->size; r++)
    total += c->rate[r];
  long at = 0;
  double acc = 0;
  for (int r = 0; r < c->size; r++) {
    acc += c->rate[r];
    long end = r == c->size - 1 ? n : (long)((double)n * acc / total + 0.5);
    if (end < at) end = at;
    if (end > n) end = n;
    c->displs[r] = (int)(at * (long)c->ps);
    c->counts[r] = (int)((end - at) * (long)c->ps);
    c->qdispls[r] = (int)(at * (long)c->as);
    c->qcounts[r] = (int)((end - at) * (long)c->as);
    at = end;
  }
}

/* Rank 0, first half of a batch: the batch size, the cut and each rank's questions. */
static void dispatch(mpi_ctx *c, const void *pts, long n) {
  c->t_begin = now_s();
  MPI_Bcast(&n, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  cut(c, n);
  int bytes = 0;
  MPI_Scatter(c->counts, 1, MPI_INT, &bytes, 1, MPI_INT, 0, MPI_COMM_WORLD);
  sl_sweep_asks_get(pts, c->q, (size_t)n);
  MPI_Scatterv(c->q, c->qcounts, c->qdispls, MPI_BYTE, MPI_IN_PLACE, c->qcounts[0], MPI_BYTE, 0,
               MPI_COMM_WORLD);
}

/* Rank 0, second half: its own range (which starts at 0), then every rank's results and times. */
static sl_status collect(mpi_ctx *c, sl_sweep_worker *wk, void *pts, sl_error *err) {
  long m = c->counts[0] / (long)c->ps;
  double t = eval_range(wk, pts, m, err), times[MAX_RANKS];
  if (t >= 0) t = now_s() - c->t_begin; /* rank 0's share waited for the previous batch's bookkeeping */
  MPI_Gatherv(MPI_IN_PLACE, c->counts[0], MPI_BYTE, pts, c->counts, c->displs, MPI_BYTE, 0, MPI_COMM_WORLD);
  MPI_Gather(&t, 1, MPI_DOUBLE, times, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  sl_status s = SL_OK;
  for (int r = 0; r < c->size; r++) {
    if (times[r] < 0) s = SL_ERR_INTERNAL;
    long pr = c->counts[r] / (long)c->ps;
    if (pr >= 16 && times[r] > 0) c->rate[r] = (double)pr / times[r];
  }
  return s;
}

/* Another rank, one batch (its size already received): its questions, its range, its results. */
static void worker_batch(mpi_ctx *c, sl_sweep_worker *wk, void *mine, void *qs) {
  int bytes = 0;
  MPI_Scatter(NULL, 1, MPI_INT, &bytes, 1, MPI_INT, 0, MPI_COMM_WORLD);
  long m = bytes / (long)c->ps;
  MPI_Scatterv(NULL, NULL, NULL, MPI_BYTE, qs, (int)(m * (long)c->as), MPI_BYTE, 0, MPI_COMM_WORLD);
  sl_sweep_asks_put(qs, mine, (size_t)m);
  sl_error err;
  double t = eval_range(wk, mine, m, &err);
  MPI_Gatherv(mine, bytes, MPI_BYTE, NULL, NULL, NULL, MPI_BYTE, 0, MPI_COMM_WORLD);
  MPI_Gather(&t, 1, MPI_DOUBLE, NULL, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

/* Called by sl_sweep_run for each batch: hand it out (batch_begin; the other ranks start at once
 * while rank 0 tells and writes the previous batch) ... */
static void eval_begin(void *ud, void *pts, size_t n) {
  mpi_ctx *c = ud;
  if ((long)n > c->qcap) {
    char *q = realloc(c->q, n * c->as);
    if (!q) MPI_Abort(MPI_COMM_WORLD, EXIT_INTERNAL);
    c->q = q, c->qcap = (long)n;
  }
  dispatch(c, pts, (long)n);
}

/* ... then evaluate rank 0's range and gather the others' (batch_eval). */
static sl_status eval_batch(void *ud, sl_sweep_worker *wk, void *pts, size_t n, sl_error *err) {
  (void)n;
  memset(err, 0, sizeof *err);
  sl_status s = collect(ud, wk, pts, err);
  if (s && err->code == SL_OK) {
    err->code = SL_ERR_INTERNAL;
    snprintf(err->message, sizeof err->message, "sweep: another MPI rank failed to evaluate a point");
  }
  return s;
}

/* Ranks other than 0: evaluate their range of every batch until rank 0 sends a batch of -1. */
static void worker_loop(mpi_ctx *c, const sl_sweep *sw) {
  sl_sweep_worker *wk = NULL;
  sl_error err;
  if (sl_sweep_worker_new(sw, &wk, &err)) MPI_Abort(MPI_COMM_WORLD, EXIT_INTERNAL);
  char *pts = NULL, *qs = NULL;
  long cap = 0;
  for (;;) {
    long n = 0;
    MPI_Bcast(&n, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (n < 0) break;
    if (n > cap) { /* at most the whole batch is ours */
      char *p = realloc(pts, (size_t)n * c->ps);
      char *q = realloc(qs, (size_t)n * c->as);
      if (p) pts = p;
      if (q) qs = q;
      if (!p || !q) MPI_Abort(MPI_COMM_WORLD, EXIT_INTERNAL);
      cap = n;
    }
    worker_batch(c, wk, pts, qs);
  }
  free(pts);
  free(qs);
  sl_sweep_worker_free(wk);
}

int sweep_mpi_main(const sl_sweep *sw, const char *db, sl_sweep_params *p, char **report, sl_error *err,
                   sl_status *status) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(NULL, NULL);
  static mpi_ctx c;
  c.ps = sl_sweep_point_size();
  c.as = sl_sweep_ask_size();
  MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &c.size);
  if (c.size > MAX_RANKS) {
    if (c.rank == 0) fprintf(stderr, "silica: sweep: at most %d MPI ranks\n", MAX_RANKS);
    MPI_Finalize();
    *status = SL_ERR_INPUT;
    return c.rank != 0;
  }
  if (c.rank != 0) {
    worker_loop(&c, sw);
    MPI_Finalize();
    return 1; /* a worker rank: nothing to print */
  }
  for (int r = 0; r < c.size; r++)
    c.rate[r] = 1; /* equal shares until measured */
  if (c.size > 1) {
    p->batch_begin = eval_begin;
    p->batch_eval = eval_batch;
    p->batch_ud = &c;
    p->jobs = 1;
  }
  *status = sl_sweep_run(sw, db, p, NULL, report, err);
  long stop = -1;
  if (c.size > 1) MPI_Bcast(&stop, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  free(c.q);
  c.q = NULL, c.qcap = 0;
  MPI_Finalize();
  return 0;
}
