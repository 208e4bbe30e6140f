/* collective.c — collectives on a two-level network (scale-up domain, scale-out fabric) with the
 * alpha-beta model: ring, tree and hierarchical algorithms, the fastest taken as NCCL's tuner
 * does.  Formulas: Thakur, Rabenseifner & Gropp 2005; NCCL docs (bus bandwidth); equations.md.
 *
 * A group has n ranks, k of them in each scale-up domain (m = n/k domains).  A ring that leaves
 * a domain does so through the k ranks' own NICs in parallel (NCCL builds one ring per NIC), so
 * its bandwidth is min(scale-up, k x scale-out).  Sizes: all-reduce S = the buffer; all-gather S =
 * the gathered output per rank; reduce-scatter S = the input per rank; all-to-all S = what each
 * rank sends in all; send/recv S = the message. */
#include "cost/cost.h"

#include <math.h>

_Static_assert(SL_COLL_COUNT == 5, "update sl_coll_names");
const char *const sl_coll_names[] = {"all_reduce", "all_gather", "reduce_scatter",
                                     "all_to_all", "send_recv",  NULL};
_Static_assert(SL_ARRAY_LEN(sl_coll_names) == SL_COLL_COUNT + 1, "a name for every member");

double link_bw(const sl_link *l) {
  return l->bw_GBps * 1e9 * l->efficiency;
}

void net_init(sl_net *net, const sl_link *up, const sl_link *out, double node_chips) {
  net->up_bw = link_bw(up);
  net->up_lat = up->latency_s;
  double over = out->oversubscription >= 1 ? out->oversubscription : 1;
  net->out_bw = link_bw(out) / over;
  net->out_lat = out->latency_s;
  net->node = node_chips;
}

static sl_cost result(double t_bw, double t_lat) {
  sl_cost r = {0};
  r.time_s = t_bw + t_lat;
  r.bound = t_lat > t_bw ? SL_BOUND_LATENCY : SL_BOUND_NETWORK;
  return r;
}

/* Ring / tree all-reduce over n ranks at bandwidth B, step latency a. */
static double ar_ring(double S, double n, double B, double a) {
  return 2 * (n - 1) / n * S / B + 2 * (n - 1) * a;
}
static double ar_tree(double S, double n, double B, double a) {
  return 2 * S / B + 2 * ceil(log2(n)) * a;
}

sl_cost cost_collective(const sl_net *net, sl_coll type, double S, double n, double k) {
  sl_cost r = {0};
  if (n <= 1 || S <= 0) return r;
  if (k < 1) k = 1;
  if (k > n) k = n;
  double m = n / k;
  int multi = m > 1.0 + 1e-9;
  double B = multi ? fmin(net->up_bw, k * net->out_bw) : net->up_bw;
  double a = multi ? net->out_lat : net->up_lat;
  switch (type) {
  case SL_COLL_ALL_REDUCE: {
    double ring = ar_ring(S, n, B, a), tree = ar_tree(S, n, B, a), best = fmin(ring, tree);
    double bw_part = best == ring ? 2 * (n - 1) / n * S / B : 2 * S / B;
    if (multi && k > 1) { /* reduce-scatter in the domain, all-reduce of S/k across, all-gather */
      double in = 2 * ((k - 1) / k * S / net->up_bw + (k - 1) * net->up_lat);
      double x_ring = ar_ring(S / k, m, net->out_bw, net->out_lat),
             x_tree = ar_tree(S / k, m, net->out_bw, net->out_lat);
      double across = fmin(x_ring, x_tree);
      if (in + across < best) {
        best = in + across;
        bw_part =
            2 * (k - 1) / k * S / net->up_bw + (across == x_ring ? 2 * (m - 1) / m : 2) * S / k / net->out_bw;
      }
    }
    return result(bw_part, best - bw_part);
  }
  case SL_COLL_ALL_GATHER:
  case SL_COLL_REDUCE_SCATTER:
    return result((n - 1) / n * S / B, (n - 1) * a);
  case SL_COLL_ALL_TO_ALL: {
    double intra = (k - 1) / n * S / net->up_bw;
    double inter = multi ? (n - k) / n * S / net->out_bw : 0;
    return result(fmax(intra, inter), (n - 1) * a);
  }
  case SL_COLL_SEND_RECV:
  default:
    /* k >= 2: the peer is in the same domain; k = 1: across the fabric. */
    return result(S / (k >= 2 ? net->up_bw : net->out_bw), k >= 2 ? net->up_lat : net->out_lat);
  }
  return r;
}
