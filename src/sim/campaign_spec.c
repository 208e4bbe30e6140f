/* campaign_spec.c — the keys of a training campaign that the scenario reader and the sweeps use:
 * `reliability:` with its sourced defaults, and sizing a fleet to a site's power (docs/formats.md
 * "Campaigns"; the run itself is campaign.c). */
#include "sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- reliability: defaults and keys ------------------------------------------------------------ */

/* Llama 3 report (Dubey et al. 2024, arXiv 2407.21783) Table 5: 419 unexpected interruptions of
 * the 405B pre-training in a 54-day snapshot on 16,384 H100s (2,048 hosts of 8), by root cause.
 * GPU (faulty GPU 148, HBM3 72, SRAM 19, GPU system processor 17, silent data corruption 6,
 * thermal interface and sensor 6) = 268 over 16,384 x 1,296 GPU-hours; host (software bug 54,
 * host maintenance 32, SSD 3, power supply 3, chassis 2, IO expansion board 2, dependency 2,
 * CPU 2, system memory 2) = 102 over 2,048 x 1,296 node-hours; network (switch and cable 35, NIC
 * 7, NCCL watchdog timeouts 7) = 49 over 16,384 x 1,296 link-hours (one scale-out link per GPU). */
#define LLAMA3_GPU_HOURS (16384.0 * 54 * 24)
#define LLAMA3_NODE_HOURS (2048.0 * 54 * 24)

void campaign_default_reliability(sl_reliability *r, double *network_w_per_chip) {
  *r = (sl_reliability){
      .chip_per_h = 268 / LLAMA3_GPU_HOURS,
      .node_per_h = 102 / LLAMA3_NODE_HOURS,
      .link_per_h = 49 / LLAMA3_GPU_HOURS,
      /* Llama 3 report §3.3.1: Tectonic, 2 TB/s sustained (7 TB/s peak) */
      .write_GBps = 2000,
      .read_GBps = 2000,
      /* assumed: one 200 Gb/s front-end NIC per host carries its shard to storage */
      .node_write_GBps = 25,
      .node_read_GBps = 25,
      /* assumed: detection by the collective watchdog, rescheduling on spare hosts and
       * re-initialising 10^4 ranks take about 10 minutes */
      .restart_s = 600,
      .interval_s = 0,
      .trials = 1000,
      .seed = 1,
  };
  /* assumed: a three-tier 400 Gb/s fabric, per GPU: 3 tiers x (2 optical transceivers x 12 W +
   * 2 switch ports x 4 W) = 96 W; the NIC is in the host's power (econ server_power_w) */
  *network_w_per_chip = 96;
}

sl_status campaign_read_reliability(reader *r, yt_node *map, sl_reliability *out) {
  sl_status s = rd_map(r, map);
  if (!s) s = rd_double(r, map, "chip_failures_per_hour", 0, 0, 1, &out->chip_per_h);
  if (!s) s = rd_double(r, map, "node_failures_per_hour", 0, 0, 1, &out->node_per_h);
  if (!s) s = rd_double(r, map, "link_failures_per_hour", 0, 0, 1, &out->link_per_h);
  if (!s) s = rd_double(r, map, "checkpoint_write_GBps", 0, 1e-3, 1e9, &out->write_GBps);
  if (!s) s = rd_double(r, map, "checkpoint_read_GBps", 0, 1e-3, 1e9, &out->read_GBps);
  if (!s) s = rd_double(r, map, "node_write_GBps", 0, 1e-3, 1e6, &out->node_write_GBps);
  if (!s) s = rd_double(r, map, "node_read_GBps", 0, 1e-3, 1e6, &out->node_read_GBps);
  if (!s) s = rd_double(r, map, "restart_s", 0, 0, 1e7, &out->restart_s);
  if (!s) s = rd_double(r, map, "checkpoint_interval_s", 0, 1e-3, 1e9, &out->interval_s);
  if (!s) s = rd_double(r, map, "trials", 0, 0, 1e6, &out->trials);
  if (!s) s = rd_double(r, map, "seed", 0, 0, 1e18, &out->seed);
  if (!s) s = rd_done(r, map);
  if (!s && out->trials != floor(out->trials)) s = rd_fail(r, map, "trials must be a whole number");
  return s;
}

/* ---- site power -------------------------------------------------------------------------------- */

double campaign_chip_facility_w(const sl_scenario *sc) {
  double host_w = 0, pue = 1;
  if (sc->econ) {
    sl_chip_cost cc;
    econ_chip_cost(sc->econ, &sc->chip, sc->scale_up.bw_GBps, sc->scale_out.bw_GBps, &cc);
    host_w = isfinite(cc.host_w) ? cc.host_w : 0;
    pue = sc->econ->pue > 0 ? sc->econ->pue : 1;
  }
  return pue * (sc->chip.tdp_w + host_w + sc->network_w_per_chip);
}

/* The nodes a job takes of a site of n_max whole nodes: the most of the form d 2^a, d a divisor of the
 * layers (pipeline stages can take d; the other degrees and the batches are powers of two), so that
 * the plan search has degrees that multiply to it.  The rest of the site are spares. */
static double job_nodes(double n_max, double layers) {
  double best = 0;
  if (layers < 1) layers = 1;
  for (double d = 1; d <= layers && d <= n_max; d++) {
    if (fmod(layers, d) != 0) continue;
    double u = d;
    while (u * 2 <= n_max)
      u *= 2;
    if (u > best) best = u;
  }
  return best;
}

double campaign_fleet_chips(const sl_scenario *sc) {
  double per = campaign_chip_facility_w(sc);
  if (!(per > 0)) return 0;
  double layers = sc->model.kind == SL_MODEL_TRANSFORMER ? (double)sc->model.tf.layers : 1;
  return job_nodes(floor(sc->power_budget_w / (per * sc->node_chips)), layers) * sc->node_chips;
}

sl_status campaign_size_to_power(sl_scenario *sc, yt_node *root, sl_error *err) {
  double per = campaign_chip_facility_w(sc);
  yt_pair *sp = yt_find(root, "system");
  int line = sp ? sp->key_line : 0;
  if (!(sc->chip.tdp_w > 0))
    return err_set(err, SL_ERR_INPUT, root->file, line, "system.power_budget_w",
                   "chip %s has no tdp_w to size a fleet by power", sc->chip.name);
  double chips = campaign_fleet_chips(sc);
  if (chips < sc->node_chips)
    return err_set(err, SL_ERR_INPUT, root->file, line, "system.power_budget_w",
                   "%g W does not power one node of %g chips (%g W each at the facility)", sc->power_budget_w,
                   sc->node_chips, per);
  sc->chips = chips;
  return SL_OK;
}
