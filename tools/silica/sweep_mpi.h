/* sweep_mpi.h — the sweep under MPI (sweep_mpi.c, built into silica-mpi only). */
#ifndef SILICA_SWEEP_MPI_H
#define SILICA_SWEEP_MPI_H
#include "dse/dse.h"

/* Runs the sweep over the ranks of MPI_COMM_WORLD (initialising and finalising MPI).  Rank 0 runs
 * dse_run and sets *status; it returns 0.  Other ranks evaluate their share of each batch and
 * return 1 (nothing to print). */
int sweep_mpi_main(const dse_sweep *sw, dse_run_opts *o, dse_run_stats *st, sl_error *err, sl_status *status);

#endif
