/* area.c — die area of a chip from its components (docs/energy-cost.md "Area").
 *
 * One set of constants for every chip, no per-chip correction:
 *   logic   per core: the matrix engine's multipliers (LLMCompass transistor counts per MAC, the
 *           widest format the engine supports), the vector lanes (an FP32 FPU and an INT32 ALU each)
 *           with their control (LLMCompass per-lane figure), a per-core overhead (register file,
 *           schedulers, load/store; fitted), the core's crossbar port (LLMCompass); at the node's
 *           logic density;
 *   SRAM    bits x bit cell of the node / array efficiency of its banks (CACTI, as tabulated by
 *           LLMCompass), plus, for the shared levels, port and crossbar area in proportion to their
 *           bandwidth (fitted);
 *   I/O     DRAM PHYs and controllers, host (PCIe) and scale-up (NVLink-class) PHYs and
 *           controllers (LLMCompass), the interface width inferred from the bandwidth;
 *   uncore  NoC beyond the ports, control processors, I/O ring, clocks, test, spare cores: a
 *           fraction of the rest (fitted).
 * The three fitted constants were set once against the published dies of A100, H100, MTIA 2i and
 * MTIA 1 (826, 814, ~420, ~369 mm2); tests/econ/test_econ.c keeps the first three within 20%. */
#include "cost/cost.h"

#include <math.h>
#include <string.h>

/* LLMCompass cost_model.py (chips.md §3.3): transistors of a 64-bit FPU (Ariane / OpenPiton), scaled
 * quadratically with the mantissa; a 32-bit integer multiplier; control per vector lane; each
 * core's crossbar port. */
static const double FPU64_T = 685300, INT32_T = 177690, CONTROL_PER_LANE_T = 996200, CORE_PORT_T = 44.3e6;
/* Fitted (see the file comment). */
static const double CORE_OVERHEAD_T = 275e6;        /* per core */
static const double SHARED_PORT_MM2_PER_TBPS = 8.0; /* per TB/s of shared-SRAM bandwidth, at 7 nm */
static const double UNCORE_FRAC = 0.30;

static double fpu_t(double mantissa_bits) {
  return FPU64_T * (mantissa_bits / 52.0) * (mantissa_bits / 52.0);
}

/* Transistors of one MAC unit of a format. */
static double mac_t(sl_dtype dt) {
  switch (dt) {
  case SL_FP32:
    return fpu_t(23);
  case SL_TF32:
  case SL_FP16:
    return fpu_t(10);
  case SL_BF16:
    return fpu_t(7);
  case SL_FP8:
    return fpu_t(3);
  case SL_FP4:
    return fpu_t(1);
  case SL_INT8:
    return INT32_T * (8.0 / 32) * (8.0 / 32);
  case SL_INT4:
    return INT32_T * (4.0 / 32) * (4.0 / 32);
  default:
    return fpu_t(10);
  }
}

/* log-log interpolation in a table of (node, value), extrapolated as value ~ node^slope_lo below the
 * first entry and with the last segment's slope above the last. */
static double node_interp(const double *nm, const double *v, size_t n, double x) {
  if (x <= nm[0]) return v[0] * pow(x / nm[0], log(v[1] / v[0]) / log(nm[1] / nm[0]));
  for (size_t i = 1; i < n; i++)
    if (x <= nm[i]) {
      double t = log(x / nm[i - 1]) / log(nm[i] / nm[i - 1]);
      return exp(log(v[i - 1]) + t * (log(v[i]) - log(v[i - 1])));
    }
  return v[n - 1] * pow(x / nm[n - 1], log(v[n - 1] / v[n - 2]) / log(nm[n - 1] / nm[n - 2]));
}

/* Logic density, million transistors per mm2: LLMCompass (chips.md §3.3) for 7, 6, 5 nm; TSMC's
 * claims for N4 (+6% over N5) and N3E (1.6x N5 logic) [S]; older nodes from 7 nm with the Accelergy
 * area factors (45 nm -> 32, 20, 16, 14, 10, 7 nm: 0.46, 0.21, 0.19, 0.17, 0.10, 0.059). */
static double logic_density(double nm) {
  static const double n[] = {3, 4, 5, 6, 7, 10, 14, 16, 20, 32, 45};
  static const double d[] = {221.1, 146.5, 138.2, 114.2, 96.3, 56.8, 33.4, 29.9, 27.1, 12.4, 5.68};
  return node_interp(n, d, SL_ARRAY_LEN(n), nm);
}

/* SRAM bit cell, um2: TSMC high-density cells (N16 0.074, N10 0.042, N7 0.027, N5 and N4 0.021, N3
 * 0.0199; TSMC VLSI/IEDM papers as reported [S]).  LLMCompass's "bit cell" figures (0.170 um2 at
 * 7 nm) are the effective area of a GPU cache; silica gets that from the port term instead, since
 * with them MTIA 2i's 256 MB alone would exceed its 420 mm2 die. */
static double sram_cell_um2(double nm) {
  static const double n[] = {3, 4, 5, 7, 10, 16};
  static const double c[] = {0.0199, 0.021, 0.021, 0.027, 0.042, 0.074};
  return node_interp(n, c, SL_ARRAY_LEN(n), nm);
}

/* CACTI array efficiency for 4 KB .. 1 MB arrays (LLMCompass; chips.md §3.3). */
static double array_efficiency(double bytes) {
  static const double eff[] = {0.076, 0.142, 0.247, 0.393, 0.559, 0.704, 0.526, 0.602, 0.561};
  double u = fmin(fmax(bytes, 4096), 1048576);
  int i = (int)ceil(log2(u) - 1e-9) - 12;
  if (i < 0) i = 0;
  if (i > 8) i = 8;
  return eff[i];
}

/* An SRAM of `bytes` in banks of at most 512 KiB (LLMCompass's largest cache unit). */
static double sram_mm2(double bytes, double nm) {
  if (!(bytes > 0)) return 0;
  double unit = fmin(bytes, 524288);
  return bytes * 8 * sram_cell_um2(nm) * 1e-6 / array_efficiency(unit);
}

/* DRAM pin rate, Gb/s, by interface (JEDEC speed grades as shipped on the preset chips). */
static double dram_pin_gbps(const char *name, int *hbm) {
  *hbm = strncmp(name, "hbm", 3) == 0;
  if (strncmp(name, "hbm3e", 5) == 0) return 8.0;
  if (strncmp(name, "hbm3", 4) == 0) return 5.2;
  if (strncmp(name, "hbm2e", 5) == 0) return 3.2;
  if (strncmp(name, "hbm2", 4) == 0) return 2.4;
  if (*hbm) return 6.4;
  if (strncmp(name, "lpddr5x", 7) == 0) return 8.533;
  if (strncmp(name, "lpddr5", 6) == 0) return 6.4;
  if (strncmp(name, "lpddr4", 6) == 0) return 4.266;
  if (strncmp(name, "gddr7", 5) == 0) return 32;
  if (strncmp(name, "gddr", 4) == 0) return 16;
  if (strncmp(name, "ddr4", 4) == 0) return 3.2;
  return 4.8; /* DDR5 */
}

void area_estimate(const sl_chip *c, sl_area *a) {
  memset(a, 0, sizeof *a);
  double nm = c->process_nm, dens = logic_density(nm) * 1e6; /* transistors per mm2 */
  double cores = c->cores;
  /* Matrix engine: sized by the format that needs the most multiplier area. */
  double mac = 0;
  for (int f = 0; f < SL_DTYPE_COUNT; f++)
    if (c->mat_macs_per_cycle[f] > 0) mac = fmax(mac, c->mat_macs_per_cycle[f] * mac_t((sl_dtype)f));
  double lanes = c->vec_flops_per_cycle[SL_FP32] / 2.0; /* FP32 FMA lanes */
  a->matrix_mm2 = mac / dens * cores;
  a->vector_mm2 = lanes * (fpu_t(23) + INT32_T) / dens * cores;
  a->control_mm2 = (lanes * CONTROL_PER_LANE_T + CORE_OVERHEAD_T) / dens * cores;
  a->noc_mm2 = CORE_PORT_T / dens * cores;
  for (int i = 0; i < c->n_mem - 1; i++) {
    const sl_mem_level *m = &c->mem[i];
    if (m->per_core)
      a->core_sram_mm2 += sram_mm2(m->capacity_bytes, nm) * cores;
    else
      a->shared_sram_mm2 += sram_mm2(m->capacity_bytes, nm) +
                            m->bw_GBps / 1000.0 * SHARED_PORT_MM2_PER_TBPS * (logic_density(7) * 1e6 / dens);
  }
  /* DRAM interface: width from the bandwidth and the pin rate; HBM in 1024-bit stacks. */
  const sl_mem_level *d = chip_dram(c);
  int hbm = 0;
  double bits = d->bw_GBps * 8.0 / dram_pin_gbps(d->name, &hbm);
  if (hbm) {
    double stacks = ceil(bits / 1024.0 - 0.05);
    a->dram_io_mm2 = stacks * (10.45 + 552.743e6 / dens); /* HBM2e PHY and controller per stack */
  } else {
    double units = bits / 32.0; /* DDR/LPDDR PHY per 32 bits, controller per 128-bit channel */
    a->dram_io_mm2 = units * 1.45 + units / 4.0 * 90.4464e6 / dens;
  }
  /* Host link: PCIe Gen5 lanes (4 GB/s per direction) at 5 nm and below, Gen4 (2 GB/s) above.
   * Scale-up: NVLink-class links of 25 GB/s per direction (NVLink4 PHYs at 5 nm and below,
   * NVLink3 above), unless the chips reach each other through the host's PCIe (scale-up no faster
   * than the host link, as MTIA's PCIe switch). */
  int gen5 = nm <= 5.0 + 1e-9;
  if (c->host.bw_GBps > 0)
    a->link_io_mm2 +=
        c->host.bw_GBps / (gen5 ? 4.0 : 2.0) * (gen5 ? 0.64 + 5.3721e6 / dens : 0.48 + 3.9625e6 / dens);
  if (c->scale_up.bw_GBps > c->host.bw_GBps)
    a->link_io_mm2 += c->scale_up.bw_GBps / 25.0 * (gen5 ? 0.965 + 86.628e6 / dens : 1.888 + 74.632e6 / dens);
  double sum = a->matrix_mm2 + a->vector_mm2 + a->control_mm2 + a->noc_mm2 + a->core_sram_mm2 +
               a->shared_sram_mm2 + a->dram_io_mm2 + a->link_io_mm2;
  a->other_mm2 = UNCORE_FRAC * sum;
  a->total_mm2 = sum + a->other_mm2;
}

double chip_area_mm2(const sl_chip *c) {
  if (c->area_mm2 > 0) return c->area_mm2;
  sl_area a;
  area_estimate(c, &a);
  return a.total_mm2;
}
