/* econ.h — prices, die cost, cost of ownership. */
#ifndef SL_ECON_H
#define SL_ECON_H

#include "cost/cost.h"

/* ---- econ: prices and cost of ownership (src/econ/cost.c) ---- */
#define SL_ECON_MAX 16
typedef struct sl_econ_map { /* numeric or named keys -> value; `default` for names not listed */
  int n;
  const char *name[SL_ECON_MAX];
  double key[SL_ECON_MAX], val[SL_ECON_MAX];
  double dflt; /* NaN: no default */
} sl_econ_map;

typedef struct sl_econ {
  sl_econ_map wafer_usd;              /* per 300 mm wafer, by node (nm) */
  sl_econ_map defect_density_per_mm2; /* by node (nm) */
  double wafer_diameter_mm, yield_alpha, reticle_mm2;
  sl_econ_map package_usd;       /* by memory attach: hbm (2.5D interposer), other */
  sl_econ_map memory_usd_per_GB; /* by DRAM type: hbm, lpddr, gddr, ddr */
  double board_usd, board_usd_per_w;
  double server_usd, server_power_w; /* the host of one server, accelerators excluded */
  sl_econ_map chips_per_server;      /* by chip name */
  double scale_up_usd_per_GBps, scale_out_usd_per_GBps;
  double facility_usd_per_w, facility_life_years;
  double service_life_years, electricity_usd_per_kwh, pue;
  sl_econ_map chip_price_usd; /* by chip name: a purchase price replacing the cost estimate */
} sl_econ;

/* The default prices (data/econ/default.yaml) with `over` applied: a preset name, a path or an
 * inline map of any subset of the keys.  over NULL: the defaults.  Strings live in r->a. */
sl_status econ_load(reader *r, yt_node *over, sl_econ *out);
double econ_lookup_node(const sl_econ_map *m, double nm); /* log-log between listed nodes, clamped */
double econ_lookup_name(const sl_econ_map *m, const char *name);
double econ_dies_per_wafer(double area_mm2, double wafer_diameter_mm); /* pi r^2/A - pi d/sqrt(2A) */
double econ_yield(double area_mm2, double d0_per_mm2, double alpha);   /* (1 + A D0/alpha)^-alpha */

typedef struct sl_chip_cost {
  double area_mm2, dies, dies_per_wafer, yield, die_usd; /* dies: per package (reticle-limited) */
  double package_usd, memory_usd, board_usd, chip_usd;   /* chip_usd: the module, or its purchase price */
  double host_usd, network_usd, position_usd;            /* position_usd: everything one chip slot costs */
  double host_w;                                         /* the chip's share of the host's power */
  double provisioned_w;                                  /* TDP + its share of the host's power */
  int bought;                                            /* chip_price_usd gave the price */
} sl_chip_cost;
void econ_chip_cost(const sl_econ *e, const sl_chip *c, double scale_up_GBps, double scale_out_GBps,
                    sl_chip_cost *out);
/* Cost per hour of the system running at avg_power_w_per_chip (FORMATS.md cost.usd_per_hour_system). */
double econ_usd_per_hour(const sl_econ *e, const sl_chip_cost *cc, double chips, double avg_power_w_per_chip);
void econ_json(jbuf *b, const char *key, const sl_econ *e);

#endif /* SL_ECON_H */
