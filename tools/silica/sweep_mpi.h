/* sweep_mpi.h — the sweep under MPI (sweep_mpi.c, built into silica when CMake finds MPI). */
#ifndef SILICA_SWEEP_MPI_H
#define SILICA_SWEEP_MPI_H
#include "silica.h"

/* Runs the sweep into db over the ranks of MPI_COMM_WORLD (initialising and finalising MPI).  Rank 0
 * runs sl_sweep_run with p (its batch hooks set here), sets *report and *status and returns 0.  Other
 * ranks evaluate their share of each batch and return 1 (nothing to print). */
int sweep_mpi_main(const sl_sweep *sw, const char *db, sl_sweep_params *p, char **report, sl_error *err,
                   sl_status *status);

#endif
