/* collective.c — collectives on a two-level network (scale-up domain, scale-out fabric) with the
 * alpha-beta model: ring, tree and hierarchical algorithms, the fastest taken as NCCL's tuner
 * does.  Formulas: Thakur, Rabenseifner & Gropp 2005; NCCL docs (bus bandwidth); equations.md.
 *
 * A group has n ranks, k of them in each scale-up domain (m = n/k domains).  A ring that leaves
 * a domain does so through the k ranks' own NICs in parallel (NCCL builds one ring per NIC), so
 * its bandwidth is min(scale-up, k x scale-out).  Sizes: all-reduce S = the buffer; all-gather S =
 * the gathered output per rank; reduce-scatter S = the input per rank; all-to-all S = what each
 * rank sends in all; send/recv S = the message.
 *
 * Protocols (NCCL's LL and Simple): a call costs the link's start-up (`base_latency_s`: the
 * communication kernel's launch and the ranks' handshake) plus the algorithm's steps and bytes
 * under one protocol, the faster one taken.  Simple moves data at the link's large-message
 * efficiency with `latency_s` per step; the low-latency protocol (a link with `ll_efficiency`)
 * moves 8-byte lines that carry their own flag, so a step needs no separate synchronisation
 * (LL_HOP of the Simple step latency) but the bus bandwidth is only `ll_efficiency` of the link:
 * small messages take it, large ones the Simple protocol.
 *
 * In-switch reduction (NVLink SHARP, NCCL's NVLS algorithm; a scale-up link with
 * `switch_reduce_efficiency`): the switch sums what the k ranks of a domain hold.  Rank r asks the
 * switch for slice r (S/k) reduced over all ranks, which reads that slice from every rank, then
 * multicasts the result back to all: each rank sends S + S/k and receives S/k + S, so an
 * all-reduce in the domain moves S(1 + 1/k) per rank each way instead of the ring's 2(k-1)/k S,
 * at its own fraction of the link (the switch's multicast and reduction rate) and with its own
 * fixed cost (`switch_reduce_latency_s`: the multicast objects' synchronisation and the deeper
 * pipeline).  Across domains it is NCCL's NVLS-tree: the switch reduces inside each domain, the
 * S/k slices are all-reduced across, the switch multicasts back.  Only all-reduce uses it. */
#include "cost/cost.h"

#include <math.h>

_Static_assert(SL_COLL_COUNT == 5, "update sl_coll_names");
const char *const sl_coll_names[] = {"all_reduce", "all_gather", "reduce_scatter",
                                     "all_to_all", "send_recv",  NULL};
_Static_assert(SL_ARRAY_LEN(sl_coll_names) == SL_COLL_COUNT + 1, "a name for every member");

double link_bw(const sl_link *l) {
  return l->bw_GBps * 1e9 * l->efficiency;
}

/* Per-step latency of the low-latency protocol as a fraction of the Simple protocol's: NCCL's
 * tuning model (src/graph/tuning.cc, hwLat for NVLink rings) gives 0.6 us (LL) against 3.4 us
 * (Simple) per step. */
static const double LL_HOP = 0.6 / 3.4;

/* One protocol's bandwidths and step latencies on the two levels, and the rate of a ring's local
 * step (0: none). */
typedef struct proto {
  double up_bw, up_lat, out_bw, out_lat, local;
} proto;

/* A ring's local step: the slice of `bytes` a rank owns, copied into its output (all-gather,
 * all-to-all) or reduced into it (reduce-scatter; both in an all-reduce) by the collective's thread
 * blocks, a step the link steps do not hide (links.scale_up.local_GBps; docs/model.md 5). */
static double local_step(double bytes, double L) {
  return L > 0 ? bytes / L : 0;
}

void net_init(sl_net *net, const sl_link *up, const sl_link *out, double node_chips) {
  net->up_bw = link_bw(up);
  net->up_lat = up->latency_s;
  double over = out->oversubscription >= 1 ? out->oversubscription : 1;
  net->out_bw = link_bw(out) / over;
  net->out_lat = out->latency_s;
  net->node = node_chips;
  net->up_base = up->base_latency_s;
  net->out_base = out->base_latency_s;
  net->up_ll = up->bw_GBps * 1e9 * up->ll_efficiency;
  net->out_ll = out->bw_GBps * 1e9 * out->ll_efficiency / over;
  net->up_sw = up->bw_GBps * 1e9 * up->switch_reduce_efficiency;
  net->up_sw_lat = up->switch_reduce_latency_s;
  net->up_p2p = up->bw_GBps * 1e9 * up->p2p_efficiency;
  net->up_p2p_lat = up->p2p_latency_s;
  net->up_p2p_peer = up->p2p_peer_latency_s;
  /* the one-shot kernel: its own figures where the link gives them, else the two-shot kernel's */
  int own = up->p2p_one_shot_efficiency > 0;
  net->up_p2p1 = own ? up->bw_GBps * 1e9 * up->p2p_one_shot_efficiency : net->up_p2p;
  net->up_p2p1_lat = own ? up->p2p_one_shot_latency_s : up->p2p_latency_s;
  net->up_mm = up->bw_GBps * 1e9 * up->multimem_efficiency;
  net->up_mm_lat = up->multimem_latency_s;
  net->up_s2 = up->bw_GBps * 1e9 * up->symm_two_shot_efficiency;
  net->up_s2_lat = up->symm_two_shot_latency_s;
  net->up_mesh = up->mesh_links;
  net->local_bw = up->local_GBps * 1e9;
}

double mesh_share(double mesh_links, double k) {
  if (!(mesh_links > 0)) return 1;
  return fmin(fmax(k - 1, 1), mesh_links) / mesh_links;
}

double net_up_share(const sl_net *net, double k) {
  return mesh_share(net->up_mesh, k);
}

static sl_cost result(double t_bw, double t_lat) {
  sl_cost r = {0};
  r.time_s = t_bw + t_lat;
  r.bound = t_lat > t_bw ? SL_BOUND_LATENCY : SL_BOUND_NETWORK;
  return r;
}

/* Ring / tree all-reduce over n ranks at bandwidth B, step latency a; the ring's reduce-scatter and
 * all-gather each have their local step over the rank's own S/n (rate L), and so does the tree's
 * reduce and broadcast (the same figure for either algorithm, so that it does not choose between
 * them). */
static double ar_ring(double S, double n, double B, double a, double L) {
  return 2 * (n - 1) / n * S / B + 2 * local_step(S / n, L) + 2 * (n - 1) * a;
}
static double ar_tree(double S, double n, double B, double a, double L) {
  return 2 * S / B + 2 * local_step(S / n, L) + 2 * ceil(log2(n)) * a;
}

/* Time of a collective under protocol p without the call's start-up; *bw_part: its bytes' share. */
static double coll_time(const proto *p, sl_coll type, double S, double n, double k, double *bw_part) {
  double m = n / k;
  int multi = m > 1.0 + 1e-9;
  double B = multi ? fmin(p->up_bw, k * p->out_bw) : p->up_bw;
  double a = multi ? p->out_lat : p->up_lat;
  switch (type) {
  case SL_COLL_ALL_REDUCE: {
    double L = p->local, ring = ar_ring(S, n, B, a, L), tree = ar_tree(S, n, B, a, L),
           best = fmin(ring, tree);
    double bw = (best == ring ? 2 * (n - 1) / n * S / B : 2 * S / B) + 2 * local_step(S / n, L);
    if (multi && k > 1) { /* reduce-scatter in the domain, all-reduce of S/k across, all-gather */
      double in_bw = 2 * ((k - 1) / k * S / p->up_bw + local_step(S / k, L));
      double in = in_bw + 2 * (k - 1) * p->up_lat;
      double x_ring = ar_ring(S / k, m, p->out_bw, p->out_lat, L),
             x_tree = ar_tree(S / k, m, p->out_bw, p->out_lat, L);
      double across = fmin(x_ring, x_tree);
      if (in + across < best) {
        best = in + across;
        bw = in_bw + (across == x_ring ? 2 * (m - 1) / m : 2) * S / k / p->out_bw +
             2 * local_step(S / k / m, L);
      }
    }
    *bw_part = bw;
    return best;
  }
  case SL_COLL_ALL_GATHER:
  case SL_COLL_REDUCE_SCATTER:
    *bw_part = (n - 1) / n * S / B + local_step(S / n, p->local);
    return *bw_part + (n - 1) * a;
  case SL_COLL_ALL_TO_ALL: {
    double intra = (k - 1) / n * S / p->up_bw;
    double inter = multi ? (n - k) / n * S / p->out_bw : 0;
    *bw_part = fmax(intra, inter) + local_step(S / n, p->local);
    return *bw_part + (n - 1) * a;
  }
  case SL_COLL_SEND_RECV:
  default:
    /* k >= 2: the peer is in the same domain; k = 1: across the fabric. */
    *bw_part = S / (k >= 2 ? p->up_bw : p->out_bw);
    return *bw_part + (k >= 2 ? p->up_lat : p->out_lat);
  }
}

/* All-reduce with the reduction in the scale-up switch (see the top of the file), without the
 * call's start-up; *bw_part: its bytes' share.  Across domains the S/k slices take the ring or
 * tree of protocol p. */
static double ar_switch(const sl_net *net, const proto *p, double S, double n, double k, double *bw_part) {
  double m = n / k;
  double in = S * (1 + 1 / k) / net->up_sw;
  double t = in + net->up_sw_lat, bw = in;
  if (m > 1.0 + 1e-9) {
    double x_ring = ar_ring(S / k, m, p->out_bw, p->out_lat, p->local),
           x_tree = ar_tree(S / k, m, p->out_bw, p->out_lat, p->local);
    double across = fmin(x_ring, x_tree);
    t += across;
    bw += (across == x_ring ? 2 * (m - 1) / m : 2) * S / k / p->out_bw + 2 * local_step(S / k / m, p->local);
  }
  *bw_part = bw;
  return t;
}

/* Custom all-reduce kernels (vLLM csrc/custom_all_reduce.cuh; TensorRT-LLM's one-shot and two-shot
 * kernels) skip NCCL: every rank maps its peers' buffers (CUDA IPC) and reads them over NVLink
 * itself, between flag barriers.  One-shot: each rank reads the whole buffer from the n-1 others
 * and sums, one stage, (n-1) S in.  Two-shot: each rank reduces its 1/n slice from the others
 * (reduce-scatter), a barrier, then reads the other n-1 reduced slices (all-gather): two stages,
 * 2 (n-1)/n S in.  vLLM takes one-shot for 2 ranks, for fewer than 512 KiB on up to 4 ranks and
 * fewer than 256 KiB on up to 8, two-shot otherwise, and the kernel only for 2, 4, 6 or 8 ranks
 * and buffers up to 8 MiB (its max_size; larger ones go to NCCL), unless the stack names one
 * kernel (p2p_allreduce).  A two-shot stage costs the link's p2p_latency_s and p2p_peer_latency_s
 * for each of the n-1 peers it waits on at its barrier and loads from (on B200 a stage takes 8.6 us
 * on 4 ranks and 12.7 us on 8: data/validation/collectives-b200-vllm.yaml), and its loads run at
 * p2p_efficiency (the kernel runs on 36 blocks: fewer SMs than the link could use); the one-shot
 * kernel reads the same links in another pattern at its own p2p_one_shot_efficiency and
 * p2p_one_shot_latency_s (on H100 close to twice the rate: data/validation/collectives.yaml),
 * the two-shot figures where the link has none of its own. */
sl_cost cost_allreduce_p2p(const sl_net *net, double S, double n, sl_p2p_kernel kernel) {
  sl_cost r = {0};
  int ranks = (int)lround(n);
  if (!(net->up_p2p > 0) || S <= 0 || fabs(n - ranks) > 1e-9 || ranks < 2 || ranks > 8 || ranks % 2 ||
      S > 8.0 * 1024 * 1024)
    return r;
  int one_shot = kernel == SL_P2P_AUTO ? ranks == 2 || (ranks <= 4 && S < 512.0 * 1024) || S < 256.0 * 1024
                                       : kernel == SL_P2P_ONE_SHOT;
  if (one_shot) return result((n - 1) * S / (net->up_p2p1 * net_up_share(net, n)), net->up_p2p1_lat);
  return result(2 * (n - 1) / n * S / (net->up_p2p * net_up_share(net, n)),
                2 * (net->up_p2p_lat + (n - 1) * net->up_p2p_peer));
}

/* PyTorch symmetric memory's multimem all-reduce (torch.ops.symm_mem.multimem_all_reduce_, which
 * vLLM 0.11 runs on 4, 6 and 8 Hopper ranks): one kernel over a buffer mapped into an NVLink
 * multicast object.  Each rank issues multimem.ld_reduce on its 1/n slice, which the switch answers
 * with the sum over the n ranks' copies, and multimem.st of that sum, which the switch writes to
 * every rank: each rank sends S (its copy of every slice) + S/n and receives S/n + S, the in-switch
 * reduction's traffic (as NCCL's NVLS above) without NCCL's channels and multicast set-up, at the
 * link's multimem_efficiency, plus multimem_latency_s for the kernel and its barriers. */
sl_cost cost_allreduce_multimem(const sl_net *net, double S, double n) {
  sl_cost r = {0};
  if (!(net->up_mm > 0) || S <= 0 || n < 2) return r;
  return result(S * (1 + 1 / n) / net->up_mm, net->up_mm_lat);
}

/* PyTorch symmetric memory's two-shot all-reduce (torch.ops.symm_mem.two_shot_all_reduce_, vLLM's
 * choice on the ranks its table gives no multimem kernel: 2 and 4 Blackwell ranks): one kernel over
 * buffers every rank maps, each rank reducing its 1/n slice from its peers' copies and then reading
 * the other reduced slices, 2 (n-1)/n S in over the links at the link's symm_two_shot_efficiency,
 * plus symm_two_shot_latency_s for the kernel and its barriers. */
sl_cost cost_allreduce_symm_two_shot(const sl_net *net, double S, double n) {
  sl_cost r = {0};
  if (!(net->up_s2 > 0) || S <= 0 || n < 2) return r;
  return result(2 * (n - 1) / n * S / (net->up_s2 * net_up_share(net, n)), net->up_s2_lat);
}

sl_cost cost_collective(const sl_net *net, sl_coll type, double S, double n, double k) {
  sl_cost r = {0};
  if (n <= 1 || S <= 0) return r;
  if (k < 1) k = 1;
  if (k > n) k = n;
  int multi = n / k > 1.0 + 1e-9;
  double share = net_up_share(net, k); /* a mesh: the links to the other k-1 chips of the domain */
  proto simple = {net->up_bw * share, net->up_lat, net->out_bw, net->out_lat, net->local_bw};
  double bw = 0, t = coll_time(&simple, type, S, n, k, &bw);
  /* The low-latency protocol, where every level the call crosses has it. */
  if (net->up_ll > 0 && (!multi || net->out_ll > 0)) {
    proto ll = {net->up_ll * share, net->up_lat * LL_HOP, net->out_ll > 0 ? net->out_ll : net->out_bw,
                net->out_lat * LL_HOP, net->local_bw};
    double bw2 = 0, t2 = coll_time(&ll, type, S, n, k, &bw2);
    if (t2 < t) t = t2, bw = bw2;
  }
  /* The switch's reduction, where the scale-up link has it and a domain holds several ranks. */
  if (type == SL_COLL_ALL_REDUCE && net->up_sw > 0 && k > 1) {
    double bw3 = 0, t3 = ar_switch(net, &simple, S, n, k, &bw3);
    if (t3 < t) t = t3, bw = bw3;
  }
  double base = multi ? net->out_base : net->up_base;
  return result(bw, t - bw + base);
}
