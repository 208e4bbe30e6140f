/* sweep_mpi.c — `silica-mpi sweep ...` under Open MPI (mpirun -n N): every batch the strategy
 * proposes on rank 0 is split across the ranks (point i to rank i mod N), each rank evaluates its
 * share, and rank 0 gathers the results and writes the database; ranks other than 0 only evaluate.
 * Built only when CMake finds MPI (target silica-mpi). */
#include "cli.h"
#include "dse/dse.h"
#include "sweep_mpi.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

typedef struct mpi_ctx {
  int rank, size;
} mpi_ctx;

/* Message layout: the batch size, then the points themselves (plain structs: same binary). */
static sl_status eval_batch(void *ud, dse_worker *wk, dse_point *pts, long n) {
  mpi_ctx *c = ud;
  MPI_Bcast(&n, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  MPI_Bcast(pts, (int)(n * (long)sizeof *pts), MPI_BYTE, 0, MPI_COMM_WORLD);
  sl_status s = SL_OK;
  for (long i = c->rank; i < n && !s; i += c->size) s = dse_eval(wk, &pts[i]);
  int bad = s != SL_OK, any = 0;
  MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
  for (int r = 1; r < c->size; r++)
    for (long i = r; i < n; i += c->size)
      MPI_Recv(&pts[i], (int)sizeof *pts, MPI_BYTE, r, (int)(i & 0x7fff), MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return s ? s : any ? SL_ERR_INTERNAL : SL_OK;
}

/* Ranks other than 0: evaluate their share of every batch until rank 0 sends a batch of -1. */
static int worker_loop(const dse_sweep *sw, mpi_ctx *c) {
  dse_worker wk;
  dse_worker_init(&wk, sw);
  dse_point *pts = NULL;
  long cap = 0;
  for (;;) {
    long n = 0;
    MPI_Bcast(&n, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (n < 0) break;
    if (n > cap) {
      dse_point *p = realloc(pts, (size_t)n * sizeof *p);
      if (!p) MPI_Abort(MPI_COMM_WORLD, 3);
      pts = p, cap = n;
    }
    MPI_Bcast(pts, (int)(n * (long)sizeof *pts), MPI_BYTE, 0, MPI_COMM_WORLD);
    sl_status s = SL_OK;
    for (long i = c->rank; i < n && !s; i += c->size) s = dse_eval(&wk, &pts[i]);
    int bad = s != SL_OK, any = 0;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    for (long i = c->rank; i < n; i += c->size)
      MPI_Send(&pts[i], (int)sizeof *pts, MPI_BYTE, 0, (int)(i & 0x7fff), MPI_COMM_WORLD);
  }
  free(pts);
  dse_worker_free(&wk);
  return 0;
}

int sweep_mpi_main(const dse_sweep *sw, dse_run_opts *o, dse_run_stats *st, sl_error *err, sl_status *status) {
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited) MPI_Init(NULL, NULL);
  mpi_ctx c;
  MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &c.size);
  if (c.rank != 0) {
    worker_loop(sw, &c);
    MPI_Finalize();
    return 1; /* a worker rank: nothing to print */
  }
  if (c.size > 1) {
    o->eval_batch = eval_batch;
    o->eval_ud = &c;
    o->jobs = 1;
  }
  *status = dse_run(sw, o, st, err);
  long stop = -1;
  if (c.size > 1) MPI_Bcast(&stop, 1, MPI_LONG, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return 0;
}
