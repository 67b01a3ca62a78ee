/* onednn_infer.c: the oneDNN backend's inference graph, what an evaluation
 * forward (training false) runs. The training graph (onednn.c) keeps every
 * node a primitive of its own, in the forward-training propagation kind,
 * because backward reads their outputs; evaluation needs none of that, so
 * the net is rebuilt here, once per batch size, as fewer, larger steps:
 *
 * Folding. A batch norm whose input is read by nothing else and comes from
 * a convolution or linear layer is folded into it: per output channel c,
 * s = gamma / sqrt(running_var + eps), w' = w s, b' = (b - running_mean) s
 * + beta (computed in double, rounded once). The folded weights are made
 * again, lazily at the next evaluation forward, whenever the parameters or
 * the statistics changed since (set_params, set_stats, sgd_step, a training
 * forward); the copies in the primitives' layouts follow.
 *
 * Post-ops. From a convolution or linear layer (folded or not) the graph is
 * followed while each output has a single reader: ReLU, sigmoid and swish
 * become eltwise post-ops, and one addition whose other operand is already
 * computed becomes a sum post-op, the destination holding that operand
 * beforehand: its own tensor (written in place) when the addition is its
 * last reader, else a copy. A batch norm that stays (its input has other
 * readers or is not a convolution) runs as one inference primitive with the
 * running statistics, with ReLU fused (fuse_norm_relu) when that is its only
 * reader; an addition that stays takes the following activation as a
 * post-op. Every primitive uses dnnl_forward_inference (pooling keeps no
 * workspace).
 *
 * Layouts. Convolutions pick theirs (format any); batch norm, activations,
 * pooling and additions keep their input's. A value (a node's output) may
 * be a view: a slice is a sub-memory of its input, dropout, drop path and
 * a flatten of plain data are the input itself. A reader wanting another
 * layout gets a staged copy, made once and shared by every reader wanting
 * that layout. A concatenation writes each input into its sub-memory of the
 * output (blocked when every channel offset falls on the block, else
 * plain). A concatenation read only by a channel shuffle, and any shuffle,
 * is one step: each input (or each part of one within a shuffle group) is
 * reordered straight into its shuffled place in a plain output, a strided
 * view (channel stride g planes), so neither the concatenation nor the
 * shuffle exists as a tensor of its own.
 *
 * Memory. The plan is a struct plan (onednn.h) in placement EVAL: its
 * tensors live in the backend's arena, placed by lifetimes (a step is a
 * node's position in the net), padding zeroed before each tensor's first
 * use. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backends/onednn.h"

#define MAX_CHAIN 8 /* post-ops of one primitive */
#define MAX_ALT 2   /* staged layouts kept per value */

/* Per node of the net, decided once from the graph. */
struct inode {
  int uses;       /* readers of the output (+1 for the net's output) */
  int *readers;   /* the nodes that read it (uses entries, net output not) */
  int n_readers;  /* distinct reader slots */
  int fold;       /* convolution / linear: the batch norm folded in, or -1 */
  float *fw, *fb; /* folded weights and bias, host layout (fold >= 0) */
};

struct infer {
  struct inode *nodes;
  int *reader_pool;
  struct plan *plans[MAX_PLANS];
  uint64_t ver;            /* of the folded weights */
  uint64_t seen_p, seen_s; /* the versions they were folded from */
  bool folded;
};

/* A value staged in another layout. */
struct alt {
  dnnl_memory_desc_t md;
  int blk;
  dnnl_memory_t m;
};

/* Where a node's output lives in one plan. */
struct ival {
  int blk;               /* its tensor; -1: not computed (yet) */
  dnnl_memory_desc_t md; /* its layout, or a view of the tensor */
  dnnl_memory_t m;
  bool own; /* the tensor holds this value only: writable in place */
  int n_alt;
  struct alt alt[MAX_ALT]; /* staged copies in other layouts */
};

/* One primitive of the pass, run at step t (a node's position). */
struct istep {
  int t;
  struct prim p;
};

/* A weight reorder: host layout -> the primitive's, for node. */
struct iwre {
  int node;
  struct prim p;
};

struct iplan {
  struct ival *v;
  bool *done; /* per node: computed within an earlier node's step */
  struct istep *steps;
  size_t n_steps, cap_steps;
  struct iwre *w;
  size_t n_w, cap_w;
};

/* ---- the per-net state -------------------------------------------------- */

static bool is_eltwise(enum gm_nn_op op) {
  return op == GM_NN_RELU || op == GM_NN_SIGMOID || op == GM_NN_SWISH;
}

static dnnl_alg_kind_t eltwise_alg(enum gm_nn_op op, float *alpha) {
  *alpha = op == GM_NN_SWISH ? 1.0f : 0.0f;
  return op == GM_NN_RELU      ? dnnl_eltwise_relu
         : op == GM_NN_SIGMOID ? dnnl_eltwise_logistic
                               : dnnl_eltwise_swish;
}

/* The single reader of node id's output, or -1. */
static int sole_reader(const struct dnn *d, int id) {
  const struct inode *in = &d->inf->nodes[id];
  return in->uses == 1 && in->n_readers == 1 ? in->readers[0] : -1;
}

enum gm_status gm__dnn_infer_create(struct dnn *d) {
  const int nn = d->n_nodes, out = gm_nn_output(d->net);
  struct infer *inf = calloc(1, sizeof(*inf));
  int edges = 0;
  if (!inf)
    return gm__dnn_nomem(d, sizeof(*inf));
  d->inf = inf;
  inf->nodes = calloc((size_t)nn, sizeof(*inf->nodes));
  for (int id = 1; id < nn; id++)
    edges += node(d, id)->n_in;
  inf->reader_pool = calloc((size_t)edges + 1, sizeof(int));
  if (!inf->nodes || !inf->reader_pool)
    return gm__dnn_nomem(d, (size_t)nn * sizeof(*inf->nodes));
  for (int id = 1; id < nn; id++)
    for (int s = 0; s < node(d, id)->n_in; s++)
      inf->nodes[node(d, id)->in[s]].uses++;
  int at = 0;
  for (int id = 0; id < nn; id++) {
    inf->nodes[id].readers = inf->reader_pool + at;
    at += inf->nodes[id].uses;
    inf->nodes[id].fold = -1;
  }
  for (int id = 1; id < nn; id++) {
    const struct gm__nn_node *nd = node(d, id);
    for (int s = 0; s < nd->n_in; s++) {
      struct inode *src = &inf->nodes[nd->in[s]];
      bool seen = false;
      for (int k = 0; k < src->n_readers; k++)
        seen = seen || src->readers[k] == id;
      if (!seen)
        src->readers[src->n_readers++] = id;
    }
  }
  inf->nodes[out].uses++;
  for (int id = 1; id < nn; id++) {
    const struct gm__nn_node *nd = node(d, id);
    struct inode *in = &inf->nodes[id];
    const int r = nd->op == GM_NN_CONV2D || nd->op == GM_NN_LINEAR
                      ? sole_reader(d, id)
                      : -1;
    if (r < 0 || node(d, r)->op != GM_NN_BATCHNORM)
      continue;
    in->fold = r;
    const struct gm__nn_tensor_desc *w =
        gm__nn_param(d->net, (size_t)nd->weight);
    in->fw = malloc(w->numel * sizeof(float));
    in->fb = malloc((size_t)nd->shape.c * sizeof(float));
    if (!in->fw || !in->fb)
      return gm__dnn_nomem(d, w->numel * sizeof(float));
  }
  return GM_OK;
}

void gm__dnn_infer_destroy(struct dnn *d) {
  struct infer *inf = d->inf;
  if (!inf)
    return;
  for (int i = 0; i < MAX_PLANS; i++)
    gm__dnn_plan_free(inf->plans[i]);
  for (int id = 0; inf->nodes && id < d->n_nodes; id++) {
    free(inf->nodes[id].fw);
    free(inf->nodes[id].fb);
  }
  free(inf->nodes);
  free(inf->reader_pool);
  free(inf);
  d->inf = NULL;
}

void gm__dnn_infer_plan_free(struct iplan *ip) {
  if (!ip)
    return;
  free(ip->v);
  free(ip->done);
  free(ip->steps);
  free(ip->w);
  free(ip);
}

/* Folds every batch norm marked for it into its convolution or linear
 * layer, from the current parameters and running statistics. */
static void fold_all(struct dnn *d) {
  struct infer *inf = d->inf;
  for (int id = 1; id < d->n_nodes; id++) {
    const struct inode *in = &inf->nodes[id];
    if (in->fold < 0)
      continue;
    const struct gm__nn_node *nd = node(d, id), *bn = node(d, in->fold);
    const int oc = nd->shape.c;
    const size_t per =
        gm__nn_param(d->net, (size_t)nd->weight)->numel / (size_t)oc;
    const float *w = param(d, nd->weight);
    const float *b = nd->bias ? param(d, nd->bias_param) : NULL;
    const float *gamma = param(d, bn->weight), *beta = param(d, bn->bias_param);
    const float *mean = d->stats + d->soff[bn->running_mean];
    const float *var = d->stats + d->soff[bn->running_var];
    for (int c = 0; c < oc; c++) {
      const double s = (double)gamma[c] / sqrt((double)var[c] + (double)BN_EPS);
      for (size_t i = 0; i < per; i++)
        in->fw[(size_t)c * per + i] =
            (float)((double)w[(size_t)c * per + i] * s);
      in->fb[c] =
          (float)(((b ? (double)b[c] : 0.0) - (double)mean[c]) * s + beta[c]);
    }
  }
  inf->ver++;
  inf->seen_p = d->pver;
  inf->seen_s = d->sver;
  inf->folded = true;
}

/* ---- building a plan ----------------------------------------------------- */

/* The build's context. */
struct ib {
  struct dnn *d;
  struct plan *pl;
  struct iplan *ip;
  int n; /* batch */
};

static enum gm_status push_step(struct ib *b, int t, const struct prim *p) {
  struct iplan *ip = b->ip;
  if (!gm__dnn_grow((void **)&ip->steps, &ip->n_steps, &ip->cap_steps,
                    sizeof(*ip->steps)))
    return gm__dnn_nomem(b->d, sizeof(*ip->steps));
  ip->steps[ip->n_steps++] = (struct istep){t, *p};
  return GM_OK;
}

/* A reorder step at step t. */
static enum gm_status reorder_step(struct ib *b, int t,
                                   const dnnl_memory_desc_t *from_md,
                                   dnnl_memory_t from,
                                   const dnnl_memory_desc_t *to_md,
                                   dnnl_memory_t to) {
  struct prim p = {0};
  enum gm_status rc = gm__dnn_reorder(b->d, b->pl, t, &p, from_md, from, to_md,
                                      to, false, 1.0f);
  return rc == GM_OK ? push_step(b, t, &p) : rc;
}

/* A primitive descriptor with attr (NULL: the backend's), registered with
 * the plan; the status is returned, nothing is recorded on failure. */
static dnnl_status_t try_pd(struct ib *b, dnnl_primitive_desc_t *pd,
                            const void *desc,
                            const_dnnl_primitive_attr_t attr) {
  struct plan *pl = b->pl;
  if (!gm__dnn_grow((void **)&pl->pds, &pl->n_pds, &pl->cap_pds,
                    sizeof(*pl->pds)))
    return dnnl_out_of_memory;
  dnnl_status_t st = dnnl_primitive_desc_create(
      pd, desc, attr ? attr : b->d->attr, b->d->eng, NULL);
  if (st == dnnl_success)
    b->pl->pds[b->pl->n_pds++] = *pd;
  return st;
}

/* Attributes with the user scratchpad and, when n_elt + sum > 0, post-ops:
 * a sum at position sum_at (-1: none) among the eltwise ones of ops[]. */
static dnnl_status_t make_attr(dnnl_primitive_attr_t *attr,
                               const enum gm_nn_op *ops, int n_ops,
                               int sum_at) {
  dnnl_post_ops_t po = NULL;
  dnnl_status_t st = dnnl_primitive_attr_create(attr);
  if (st == dnnl_success)
    st = dnnl_primitive_attr_set_scratchpad_mode(*attr,
                                                 dnnl_scratchpad_mode_user);
  if (st == dnnl_success && n_ops > 0)
    st = dnnl_post_ops_create(&po);
  for (int k = 0; st == dnnl_success && k < n_ops; k++) {
    if (k == sum_at) {
      st = dnnl_post_ops_append_sum(po, 1.0f);
    } else {
      float alpha;
      dnnl_alg_kind_t alg = eltwise_alg(ops[k], &alpha);
      st = dnnl_post_ops_append_eltwise(po, 1.0f, alg, alpha, 0.0f);
    }
  }
  if (st == dnnl_success && po)
    st = dnnl_primitive_attr_set_post_ops(*attr, po);
  dnnl_post_ops_destroy(po);
  return st;
}

/* A new value for node id: a tensor of layout md. */
static enum gm_status value_new(struct ib *b, int id,
                                const dnnl_memory_desc_t *md) {
  struct ival *v = &b->ip->v[id];
  v->md = *md;
  v->own = true;
  v->n_alt = 0;
  return gm__dnn_mem_new(b->d, b->pl, md, &v->blk, &v->m);
}

/* Node id's value is src's (same tensor, layout md, or src's own when md is
 * NULL): writable in place only if src's was and id is its only reader. */
static enum gm_status value_alias(struct ib *b, int id, int src,
                                  const dnnl_memory_desc_t *md) {
  struct ival *v = &b->ip->v[id];
  const struct ival *s = &b->ip->v[src];
  *v = *s;
  v->own = s->own && b->d->inf->nodes[src].uses == 1;
  if (!md)
    return GM_OK;
  v->md = *md;
  v->n_alt = 0;
  return gm__dnn_mem_blk(b->d, b->pl, md, v->blk, &v->m);
}

/* Value src in layout want, for a reader at step t: itself, or a staged
 * copy (kept for other readers). *blk (optional) receives its tensor. */
static enum gm_status value_as(struct ib *b, int t, int src,
                               const dnnl_memory_desc_t *want,
                               dnnl_memory_t *out, int *blk) {
  enum gm_status rc = GM_OK;
  struct ival *v = &b->ip->v[src];
  int sb;
  if (md_eq(want, &v->md)) {
    *out = v->m;
    sb = v->blk;
    goto done;
  }
  for (int k = 0; k < v->n_alt; k++)
    if (md_eq(want, &v->alt[k].md)) {
      *out = v->alt[k].m;
      sb = v->alt[k].blk;
      goto done;
    }
  TRY(gm__dnn_mem_new(b->d, b->pl, want, &sb, out));
  TRY(reorder_step(b, t, &v->md, v->m, want, *out));
  if (v->n_alt < MAX_ALT)
    v->alt[v->n_alt++] = (struct alt){*want, sb, *out};
done:
  if (blk)
    *blk = sb;
fail:
  return rc;
}

/* A standard layout for value src as a primitive's input: its own when it
 * is one (gm__dnn_act_tags), else (a view) plain nchw. */
static dnnl_memory_desc_t dense_md(const struct ib *b, int src) {
  const struct ival *v = &b->ip->v[src];
  if (gm__dnn_find_tag(&v->md) >= 0)
    return v->md;
  return shape_md(b->n, shape_of(b->d, src), dnnl_abcd);
}

/* Whether node id may write its output over value src: id is src's last
 * reader (every other reader ran at an earlier step and made no view of
 * it), src's tensor holds src alone, and src is neither the net's input
 * nor its output. */
static bool last_reader(const struct ib *b, int src, int id, int head) {
  const struct inode *in = &b->d->inf->nodes[src];
  if (src == 0 || !b->ip->v[src].own || src == gm_nn_output(b->d->net))
    return false;
  for (int k = 0; k < in->n_readers; k++) {
    const int r = in->readers[k];
    const enum gm_nn_op op = node(b->d, r)->op;
    if (r == id)
      continue;
    if (r >= head || op == GM_NN_SLICE || op == GM_NN_DROPOUT ||
        op == GM_NN_DROP_PATH || op == GM_NN_FLATTEN)
      return false;
  }
  return true;
}

/* Whether pd runs a reference kernel (very slow in oneDNN 2.x). */
static bool slow_impl(const_dnnl_primitive_desc_t pd) {
  const char *impl = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) !=
          dnnl_success ||
      !impl)
    return false;
  return strstr(impl, "ref") != NULL;
}

/* Convolution or linear layer id, with its folded batch norm and the chain
 * of post-ops that follows. */
static enum gm_status build_conv(struct ib *b, int id) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  struct infer *inf = d->inf;
  struct inode *in = &inf->nodes[id];
  struct iplan *ip = b->ip;
  const struct gm__nn_node *nd = node(d, id);
  const bool conv = nd->op == GM_NN_CONV2D;
  const int src = nd->in[0], n = b->n;
  const struct gm_nn_shape is = shape_of(d, src), os = nd->shape;
  dnnl_primitive_attr_t attr = NULL;
  enum gm_nn_op ops[MAX_CHAIN];
  int chain[MAX_CHAIN], n_chain = 0, sum_at = -1, sum_with = -1;
  int cur = in->fold >= 0 ? in->fold : id;
  for (;;) {
    const int r = sole_reader(d, cur);
    if (r < 0 || n_chain == MAX_CHAIN)
      break;
    const struct gm__nn_node *rn = node(d, r);
    if (is_eltwise(rn->op)) {
      ops[n_chain] = rn->op;
    } else if (rn->op == GM_NN_ADD && sum_at < 0) {
      const int other = rn->in[0] == cur ? rn->in[1] : rn->in[0];
      if (other == cur || ip->v[other].blk < 0)
        break;
      sum_at = n_chain;
      sum_with = other;
      ops[n_chain] = GM_NN_ADD;
    } else {
      break;
    }
    chain[n_chain++] = r;
    cur = r;
  }

  dnnl_memory_desc_t x_md, y_md, w_any, w_user, bias_md = md1(os.c);
  const bool has_bias = nd->bias || in->fold >= 0;
  dnnl_dims_t strides = {nd->stride, nd->stride}, pad = {nd->pad, nd->pad};
  union {
    dnnl_convolution_desc_t c;
    dnnl_inner_product_desc_t ip;
  } desc;
  dnnl_primitive_desc_t pd;
  if (conv) {
    x_md = shape_md(n, is, dnnl_format_tag_any);
    y_md = shape_md(n, os, dnnl_format_tag_any);
    const int g = nd->groups;
    if (g > 1) {
      dnnl_dim_t wd[5] = {g, os.c / g, is.c / g, nd->k, nd->k};
      w_any = mdn(5, wd, dnnl_format_tag_any);
      w_user = mdn(5, wd, dnnl_goihw);
    } else {
      dnnl_dim_t wd[4] = {os.c, is.c, nd->k, nd->k};
      w_any = mdn(4, wd, dnnl_format_tag_any);
      w_user = mdn(4, wd, dnnl_oihw);
    }
  } else {
    dnnl_dim_t xd[2] = {n, is.c}, yd[2] = {n, os.c}, wd[2] = {os.c, is.c};
    x_md = mdn(2, xd, dnnl_ab);
    y_md = mdn(2, yd, dnnl_ab);
    w_any = mdn(2, wd, dnnl_format_tag_any);
    w_user = mdn(2, wd, dnnl_ab);
  }
  /* operands in the compute data type (onednn.c, build_conv_linear): the
   * input converted on its edge, the folded weights when refolded */
  x_md = md_dt(x_md, d->cdt);
  w_any = md_dt(w_any, d->cdt);
  /* the sum in place needs the destination in the operand's layout */
  const bool in_place = sum_with >= 0 && conv &&
                        last_reader(b, sum_with, chain[sum_at], id) &&
                        gm__dnn_find_tag(&ip->v[sum_with].md) >= 0;
  dnnl_status_t st = dnnl_unimplemented;
  dnnl_primitive_desc_t pd_any = NULL;
  const int chain_any[3] = {n_chain, sum_at, sum_with};
  for (int lay = 0; lay < (conv ? 2 : 1); lay++) {
    /* format any first; where that gives a reference kernel (grouped
     * convolutions that are not depthwise get channels-last and ref:any),
     * plain nchw, where gemm takes them as in the training graph */
    if (lay == 1) {
      if (st != dnnl_success || !slow_impl(pd))
        break;
      pd_any = pd;
      x_md = md_dt(shape_md(n, is, dnnl_abcd), d->cdt);
      y_md = shape_md(n, os, dnnl_abcd);
      st = dnnl_unimplemented;
    }
    for (int attempt = 0; attempt < 3 && st != dnnl_success; attempt++) {
      /* 0: the whole chain, destination in the operand's layout when in
       * place; 1: the chain, any destination; 2: no post-ops */
      if (attempt == 0 && (!in_place || lay == 1))
        continue;
      if (attempt == 2) {
        n_chain = 0;
        sum_at = sum_with = -1;
      }
      dnnl_memory_desc_t dst = attempt == 0 ? ip->v[sum_with].md : y_md;
      if (attr)
        dnnl_primitive_attr_destroy(attr);
      attr = NULL;
      CK(make_attr(&attr, ops, n_chain, sum_at), "post-ops");
      if (conv)
        CK(dnnl_convolution_forward_desc_init(
               &desc.c, dnnl_forward_inference, dnnl_convolution_direct, &x_md,
               &w_any, has_bias ? &bias_md : NULL, &dst, strides, pad, pad),
           "convolution descriptor");
      else
        CK(dnnl_inner_product_forward_desc_init(
               &desc.ip, dnnl_forward_inference, &x_md, &w_any,
               has_bias ? &bias_md : NULL, &dst),
           "inner product descriptor");
      st = try_pd(b, &pd, &desc, attr);
      if (st == dnnl_success && attempt == 0) {
        dnnl_memory_desc_t got = qmd(pd, dnnl_query_dst_md);
        if (!md_eq(&got, &ip->v[sum_with].md))
          st = dnnl_unimplemented;
      }
    }
    if (lay == 1 && (st != dnnl_success || slow_impl(pd))) {
      pd = pd_any; /* no better: back to the first choice */
      st = dnnl_success;
      n_chain = chain_any[0];
      sum_at = chain_any[1];
      sum_with = chain_any[2];
    }
  }
  CK(st, "inference primitive creation");
  ip->done[id] = true;
  if (in->fold >= 0)
    ip->done[in->fold] = true;
  for (int k = 0; k < n_chain; k++)
    ip->done[chain[k]] = true;
  const int last = n_chain ? chain[n_chain - 1] : in->fold >= 0 ? in->fold : id;

  /* input */
  dnnl_memory_t x, y, wu, wf, bu = NULL;
  int xb;
  if (conv) {
    dnnl_memory_desc_t want = qmd(pd, dnnl_query_src_md);
    TRY(value_as(b, id, src, &want, &x, NULL));
  } else {
    dnnl_memory_desc_t want = md_dt(shape_md(n, is, dnnl_abcd), d->cdt);
    TRY(value_as(b, id, src, &want, &x, &xb));
    TRY(gm__dnn_mem_blk(d, b->pl, &x_md, xb, &x));
  }
  /* output: in place over the operand, on a copy of it, or new */
  dnnl_memory_desc_t ymd = qmd(pd, dnnl_query_dst_md);
  struct ival *v = &ip->v[last];
  if (sum_with >= 0 && md_eq(&ymd, &ip->v[sum_with].md) &&
      last_reader(b, sum_with, chain[sum_at], id)) {
    TRY(value_alias(b, last, sum_with, NULL));
    v->own = true;
    v->n_alt = 0; /* the copies hold the operand */
    y = v->m;
  } else {
    dnnl_memory_desc_t vmd = conv ? ymd : shape_md(n, os, dnnl_abcd);
    TRY(value_new(b, last, &vmd));
    y = v->m;
    if (!conv)
      TRY(gm__dnn_mem_blk(d, b->pl, &ymd, v->blk, &y));
    if (sum_with >= 0) /* the operand, copied into the destination */
      TRY(reorder_step(b, id, &ip->v[sum_with].md, ip->v[sum_with].m, &vmd,
                       v->m));
  }
  /* weights and bias, host layout (folded or the parameters) */
  TRY(gm__dnn_mem_at(d, b->pl, &w_user,
                     in->fold >= 0 ? in->fw : param(d, nd->weight), &wu));
  dnnl_memory_desc_t wf_md = qmd(pd, dnnl_query_weights_md);
  if (md_eq(&wf_md, &w_user)) {
    wf = wu;
  } else {
    struct iwre re = {.node = id};
    /* the training graph's copy: each graph makes it again when the
     * other wrote it last (keyed by plan, whose ids are unique) */
    TRY(gm__dnn_mem_on(d, b->pl, &wf_md, &d->nb[id].wf, &wf));
    TRY(gm__dnn_reorder(d, b->pl, id, &re.p, &w_user, wu, &wf_md, wf, false,
                        1.0f));
    if (!gm__dnn_grow((void **)&ip->w, &ip->n_w, &ip->cap_w, sizeof(*ip->w))) {
      rc = gm__dnn_nomem(d, sizeof(*ip->w));
      goto fail;
    }
    ip->w[ip->n_w++] = re;
  }
  if (in->fold >= 0)
    TRY(gm__dnn_mem_at(d, b->pl, &bias_md, in->fb, &bu));
  else if (nd->bias)
    TRY(gm__dnn_mem_at(d, b->pl, &bias_md, param(d, nd->bias_param), &bu));
  struct prim p = {0};
  TRY(gm__dnn_make_prim(d, b->pl, id, &p, pd, "inference primitive creation"));
  arg(&p, DNNL_ARG_SRC, x);
  arg(&p, DNNL_ARG_WEIGHTS, wf);
  if (bu)
    arg(&p, DNNL_ARG_BIAS, bu);
  arg(&p, DNNL_ARG_DST, y);
  TRY(push_step(b, id, &p));
fail:
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  return rc;
}

/* A batch norm left standalone: the inference primitive on the running
 * statistics, with ReLU fused when that is its only reader. */
static enum gm_status build_bn(struct ib *b, int id) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  const int src = nd->in[0], r = sole_reader(d, id);
  const bool relu = r >= 0 && node(d, r)->op == GM_NN_RELU;
  unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift;
  if (relu)
    flags |= dnnl_fuse_norm_relu;
  dnnl_memory_desc_t x_md = dense_md(b, src), c_md = md1(nd->shape.c);
  dnnl_batch_normalization_desc_t desc;
  dnnl_primitive_desc_t pd;
  dnnl_memory_t x, scale, shift, mean, var;
  CK(dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_inference,
                                                &x_md, BN_EPS, flags),
     "batch norm inference descriptor");
  TRY(gm__dnn_make_pd(d, b->pl, id, &pd, &desc, NULL,
                      "batch norm inference creation"));
  TRY(value_as(b, id, src, &x_md, &x, NULL));
  const int last = relu ? r : id;
  dnnl_memory_desc_t y_md = qmd(pd, dnnl_query_dst_md);
  TRY(value_new(b, last, &y_md));
  b->ip->done[id] = true;
  b->ip->done[last] = true;
  TRY(gm__dnn_mem_at(d, b->pl, &c_md, param(d, nd->weight), &scale));
  TRY(gm__dnn_mem_at(d, b->pl, &c_md, param(d, nd->bias_param), &shift));
  TRY(gm__dnn_mem_at(d, b->pl, &c_md, d->stats + d->soff[nd->running_mean],
                     &mean));
  TRY(gm__dnn_mem_at(d, b->pl, &c_md, d->stats + d->soff[nd->running_var],
                     &var));
  struct prim p = {0};
  TRY(gm__dnn_make_prim(d, b->pl, id, &p, pd, "batch norm inference creation"));
  arg(&p, DNNL_ARG_SRC, x);
  arg(&p, DNNL_ARG_DST, b->ip->v[last].m);
  arg(&p, DNNL_ARG_SCALE, scale);
  arg(&p, DNNL_ARG_SHIFT, shift);
  arg(&p, DNNL_ARG_MEAN, mean);
  arg(&p, DNNL_ARG_VARIANCE, var);
  TRY(push_step(b, id, &p));
fail:
  return rc;
}

/* The eltwise nodes that follow id while each output has one reader, as
 * post-ops of an operation at id (an addition). */
static int eltwise_chain(const struct dnn *d, int id, enum gm_nn_op *ops,
                         int *chain) {
  int n = 0, cur = id;
  for (;;) {
    const int r = sole_reader(d, cur);
    if (r < 0 || n == MAX_CHAIN || !is_eltwise(node(d, r)->op))
      return n;
    ops[n] = node(d, r)->op;
    chain[n++] = r;
    cur = r;
  }
}

/* Eltwise, addition and per-channel multiplication: one primitive on
 * dense inputs in the first input's layout, written over the first input
 * when this is its last reader. */
static enum gm_status build_simple(struct ib *b, int id) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  const int n = b->n;
  struct iplan *ip = b->ip;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_primitive_desc_t pd;
  enum gm_nn_op ops[MAX_CHAIN];
  int chain[MAX_CHAIN], n_chain = 0;
  const int src = nd->in[0];
  dnnl_memory_desc_t x_md = dense_md(b, src), s_md = x_md;
  dnnl_memory_t x0, x1 = NULL;
  union {
    dnnl_eltwise_desc_t e;
    dnnl_binary_desc_t bi;
  } desc;
  if (nd->op == GM_NN_ADD || nd->op == GM_NN_MUL_CHANNEL)
    n_chain = eltwise_chain(d, id, ops, chain);
  if (nd->op == GM_NN_MUL_CHANNEL) {
    const int t = gm__dnn_find_tag(&x_md);
    s_md = md4(n, nd->shape.c, 1, 1, gm__dnn_act_tags[t]);
  }
  if (is_eltwise(nd->op)) {
    float alpha;
    dnnl_alg_kind_t alg = eltwise_alg(nd->op, &alpha);
    CK(dnnl_eltwise_forward_desc_init(&desc.e, dnnl_forward_inference, alg,
                                      &x_md, alpha, 0.0f),
       "eltwise descriptor");
  } else {
    CK(dnnl_binary_desc_init(
           &desc.bi, nd->op == GM_NN_ADD ? dnnl_binary_add : dnnl_binary_mul,
           &x_md, &s_md, &x_md),
       "binary descriptor");
  }
  CK(make_attr(&attr, ops, n_chain, -1), "post-ops");
  if (try_pd(b, &pd, &desc, attr) != dnnl_success) {
    n_chain = 0;
    TRY(gm__dnn_make_pd(d, b->pl, id, &pd, &desc, NULL,
                        "inference primitive creation"));
  }
  const int last = n_chain ? chain[n_chain - 1] : id;
  ip->done[id] = true;
  for (int k = 0; k < n_chain; k++)
    ip->done[chain[k]] = true;
  TRY(value_as(b, id, src, &x_md, &x0, NULL));
  if (nd->n_in > 1)
    TRY(value_as(b, id, nd->in[1], &s_md, &x1, NULL));
  if (x0 == ip->v[src].m && last_reader(b, src, id, id) &&
      (nd->n_in < 2 || nd->in[1] != src)) {
    TRY(value_alias(b, last, src, NULL));
    ip->v[last].own = true;
    ip->v[last].n_alt = 0;
  } else {
    TRY(value_new(b, last, &x_md));
  }
  struct prim p = {0};
  TRY(gm__dnn_make_prim(d, b->pl, id, &p, pd, "inference primitive creation"));
  if (x1) {
    arg(&p, DNNL_ARG_SRC_0, x0);
    arg(&p, DNNL_ARG_SRC_1, x1);
  } else {
    arg(&p, DNNL_ARG_SRC, x0);
  }
  arg(&p, DNNL_ARG_DST, ip->v[last].m);
  TRY(push_step(b, id, &p));
fail:
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  return rc;
}

static enum gm_status build_pool(struct ib *b, int id) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  const int src = nd->in[0];
  const struct gm_nn_shape is = shape_of(d, src);
  dnnl_alg_kind_t alg = nd->op == GM_NN_MAXPOOL ? dnnl_pooling_max
                        : nd->op == GM_NN_AVGPOOL
                            ? dnnl_pooling_avg_include_padding
                            : dnnl_pooling_avg_exclude_padding;
  dnnl_dims_t kernel = {nd->k, nd->k}, strides = {nd->stride, nd->stride},
              pad = {nd->pad, nd->pad};
  if (nd->op == GM_NN_GLOBAL_AVGPOOL) {
    kernel[0] = is.h;
    kernel[1] = is.w;
    strides[0] = strides[1] = 1;
    pad[0] = pad[1] = 0;
  }
  dnnl_memory_desc_t x_md = dense_md(b, src);
  dnnl_memory_desc_t y_any = shape_md(b->n, nd->shape, dnnl_format_tag_any);
  dnnl_pooling_desc_t desc;
  dnnl_primitive_desc_t pd;
  dnnl_memory_t x;
  CK(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_inference, alg, &x_md,
                                    &y_any, strides, kernel, pad, pad),
     "pooling descriptor");
  TRY(gm__dnn_make_pd(d, b->pl, id, &pd, &desc, NULL, "pooling creation"));
  TRY(value_as(b, id, src, &x_md, &x, NULL));
  dnnl_memory_desc_t y_md = qmd(pd, dnnl_query_dst_md);
  TRY(value_new(b, id, &y_md));
  b->ip->done[id] = true;
  struct prim p = {0};
  TRY(gm__dnn_make_prim(d, b->pl, id, &p, pd, "pooling creation"));
  arg(&p, DNNL_ARG_SRC, x);
  arg(&p, DNNL_ARG_DST, b->ip->v[id].m);
  TRY(push_step(b, id, &p));
fail:
  return rc;
}

/* Flatten: the input itself when it is plain nchw, else a plain copy; read
 * as N x CHW x 1 x 1. */
static enum gm_status build_flatten(struct ib *b, int id) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  const int src = node(d, id)->in[0];
  dnnl_memory_desc_t plain = shape_md(b->n, shape_of(d, src), dnnl_abcd);
  dnnl_memory_desc_t flat = shape_md(b->n, node(d, id)->shape, dnnl_abcd);
  dnnl_memory_t x;
  int xb;
  TRY(value_as(b, id, src, &plain, &x, &xb));
  struct ival *v = &b->ip->v[id];
  v->blk = xb;
  v->md = flat;
  v->n_alt = 0;
  /* a staged copy may serve other readers of src */
  v->own =
      x == b->ip->v[src].m && b->ip->v[src].own && d->inf->nodes[src].uses == 1;
  TRY(gm__dnn_mem_blk(d, b->pl, &flat, xb, &v->m));
  b->ip->done[id] = true;
fail:
  return rc;
}

/* Channels [c0, c1) of value src: a sub-memory of it, or of a plain copy
 * when its blocks do not allow one. */
static enum gm_status build_slice(struct ib *b, int id) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  const int src = nd->in[0];
  const struct gm_nn_shape os = nd->shape;
  dnnl_dims_t dims = {b->n, os.c, os.h, os.w}, offs = {0, nd->c0, 0, 0};
  dnnl_memory_desc_t sub;
  struct ival *v = &b->ip->v[id], *s = &b->ip->v[src];
  int blk = s->blk;
  if (dnnl_memory_desc_init_submemory(&sub, &s->md, dims, offs) !=
      dnnl_success) {
    dnnl_memory_desc_t plain = shape_md(b->n, shape_of(d, src), dnnl_abcd);
    dnnl_memory_t x;
    TRY(value_as(b, id, src, &plain, &x, &blk));
    CK(dnnl_memory_desc_init_submemory(&sub, &plain, dims, offs),
       "sub-memory descriptor");
  }
  v->blk = blk;
  v->md = sub;
  v->own = false;
  v->n_alt = 0;
  TRY(gm__dnn_mem_blk(d, b->pl, &sub, blk, &v->m));
  b->ip->done[id] = true;
fail:
  return rc;
}

/* Whether md is channels-last (nhwc, or a view of such a tensor). */
static bool channels_last(const dnnl_memory_desc_t *md) {
  return md->ndims == 4 && md->format_kind == dnnl_blocked &&
         md->format_desc.blocking.inner_nblks == 0 &&
         md->format_desc.blocking.strides[1] == 1;
}

/* Concatenation id of srcs[0..n_src) (read in that order along channels)
 * followed by a channel shuffle in g groups (g 1: none), whose output is
 * node out: each input, or each part of one within a group, is reordered
 * into its place in out's tensor. */
static enum gm_status concat_into(struct ib *b, int id, const int *srcs,
                                  int n_src, int g, int out) {
  struct dnn *d = b->d;
  enum gm_status rc = GM_OK;
  const struct gm_nn_shape os = node(d, out)->shape;
  const int n = b->n, c = os.c, cg = c / g;
  const dnnl_dim_t hw = (dnnl_dim_t)os.h * os.w;
  /* blocked when every offset falls on a block of the inputs' layout */
  int t = g == 1 ? gm__dnn_find_tag(&b->ip->v[srcs[0]].md) : -1;
  for (int i = 0, off = 0; i < n_src && t >= 0; i++) {
    if (gm__dnn_find_tag(&b->ip->v[srcs[i]].md) != t ||
        off % gm__dnn_act_blocks[t])
      t = -1;
    off += shape_of(d, srcs[i]).c;
  }
  if (t >= 0 && c % gm__dnn_act_blocks[t])
    t = -1;
  /* else plain: channels last when an input is (the convolutions'
   * choice in inference), where any channel range is a strided view */
  bool nhwc = false;
  for (int i = 0; i < n_src; i++)
    nhwc = nhwc || channels_last(&b->ip->v[srcs[i]].md);
  dnnl_memory_desc_t y_md = shape_md(n, os,
                                     t >= 0 ? gm__dnn_act_tags[t]
                                     : nhwc ? dnnl_acdb
                                            : dnnl_abcd);
  TRY(value_new(b, out, &y_md));
  b->ip->done[id] = b->ip->done[out] = true;
  const int yb = b->ip->v[out].blk;
  int a = 0;
  for (int i = 0; i < n_src; i++) {
    const int ci = shape_of(d, srcs[i]).c;
    for (int lo = a; lo < a + ci;) {
      const int grp = lo / cg,
                hi = (grp + 1) * cg < a + ci ? (grp + 1) * cg : a + ci;
      dnnl_dims_t dims = {n, hi - lo, os.h, os.w};
      /* the source: the value, or its channels [lo - a, hi - a) */
      const struct ival *s = &b->ip->v[srcs[i]];
      dnnl_memory_desc_t from_md = s->md;
      dnnl_memory_t from = s->m;
      int from_blk = s->blk;
      if (hi - lo != ci) {
        dnnl_dims_t offs = {0, lo - a, 0, 0};
        if (dnnl_memory_desc_init_submemory(&from_md, &s->md, dims, offs) !=
            dnnl_success) {
          dnnl_memory_desc_t plain =
              shape_md(n, shape_of(d, srcs[i]), dnnl_abcd);
          TRY(value_as(b, id, srcs[i], &plain, &from, &from_blk));
          CK(dnnl_memory_desc_init_submemory(&from_md, &plain, dims, offs),
             "sub-memory descriptor");
        }
        TRY(gm__dnn_mem_blk(d, b->pl, &from_md, from_blk, &from));
      }
      /* the destination: a sub-memory, or the shuffled strided view */
      dnnl_memory_desc_t to_md;
      if (g == 1) {
        dnnl_dims_t offs = {0, lo, 0, 0};
        CK(dnnl_memory_desc_init_submemory(&to_md, &y_md, dims, offs),
           "sub-memory descriptor");
      } else {
        /* channel j of group grp goes to j * g + grp */
        const dnnl_dim_t ch = nhwc ? 1 : hw; /* the channel stride */
        dnnl_dims_t st = {(dnnl_dim_t)c * hw, g * ch,
                          nhwc ? (dnnl_dim_t)os.w * c : os.w, nhwc ? c : 1};
        CK(dnnl_memory_desc_init_by_strides(&to_md, 4, dims, dnnl_f32, st),
           "strided descriptor");
        to_md.offset0 = ((dnnl_dim_t)(lo - grp * cg) * g + grp) * ch;
      }
      dnnl_memory_t to;
      TRY(gm__dnn_mem_blk(d, b->pl, &to_md, yb, &to));
      TRY(reorder_step(b, id, &from_md, from, &to_md, to));
      lo = hi;
    }
    a += ci;
  }
fail:
  return rc;
}

static enum gm_status build_node(struct ib *b, int id) {
  struct dnn *d = b->d;
  const struct gm__nn_node *nd = node(d, id);
  switch (nd->op) {
  case GM_NN_CONV2D:
  case GM_NN_LINEAR:
    return build_conv(b, id);
  case GM_NN_BATCHNORM:
    return build_bn(b, id);
  case GM_NN_RELU:
  case GM_NN_SIGMOID:
  case GM_NN_SWISH:
  case GM_NN_ADD:
  case GM_NN_MUL_CHANNEL:
    return build_simple(b, id);
  case GM_NN_MAXPOOL:
  case GM_NN_AVGPOOL:
  case GM_NN_GLOBAL_AVGPOOL:
    return build_pool(b, id);
  case GM_NN_FLATTEN:
    return build_flatten(b, id);
  case GM_NN_DROPOUT:
  case GM_NN_DROP_PATH:
    b->ip->done[id] = true;
    return value_alias(b, id, nd->in[0], NULL);
  case GM_NN_CONCAT: {
    const int r = sole_reader(d, id);
    if (r >= 0 && node(d, r)->op == GM_NN_SHUFFLE)
      return concat_into(b, id, nd->in, nd->n_in, node(d, r)->groups, r);
    return concat_into(b, id, nd->in, nd->n_in, 1, id);
  }
  case GM_NN_SLICE:
    return build_slice(b, id);
  case GM_NN_SHUFFLE:
    return concat_into(b, id, nd->in, 1, nd->groups, id);
  case GM_NN_INPUT:
    break;
  }
  gm__fmt(d->err, sizeof(d->err), "onednn: node %d: unknown operator %d", id,
          (int)nd->op);
  return GM_ERR_NOT_SUPPORTED;
}

/* Lifetimes (steps touching each tensor), placement and zeroing lists. */
static enum gm_status place_plan(struct ib *b) {
  struct dnn *d = b->d;
  struct plan *pl = b->pl;
  struct iplan *ip = b->ip;
  const int out = gm_nn_output(d->net);
  struct mref *refs = calloc(pl->n_mems ? pl->n_mems : 1, sizeof(*refs));
  if (!refs)
    return gm__dnn_nomem(d, pl->n_mems * sizeof(*refs));
  for (size_t i = 0; i < pl->n_mems; i++)
    refs[i] = (struct mref){pl->mems[i].m, pl->mems[i].blk};
  qsort(refs, pl->n_mems, sizeof(*refs), gm__dnn_mref_cmp);
#define TOUCH(bk, step)                                                        \
  do {                                                                         \
    if ((bk) >= 0) {                                                           \
      struct blk *t_ = &pl->blks[bk];                                          \
      if ((step) < t_->t0[EVAL])                                               \
        t_->t0[EVAL] = (step);                                                 \
      if ((step) > t_->t1[EVAL])                                               \
        t_->t1[EVAL] = (step);                                                 \
    }                                                                          \
  } while (0)
  TOUCH(ip->v[0].blk, 0);
  for (size_t k = 0; k < ip->n_steps; k++) {
    const struct prim *p = &ip->steps[k].p;
    for (int i = 0; i < p->nargs; i++) {
      struct mref key = {p->args[i].memory, -1};
      const struct mref *r =
          bsearch(&key, refs, pl->n_mems, sizeof(key), gm__dnn_mref_cmp);
      if (r)
        TOUCH(r->blk, ip->steps[k].t);
    }
  }
  TOUCH(ip->v[out].blk, d->n_nodes);
#undef TOUCH
  free(refs);
  pl->naive = 0;
  for (size_t i = 0; i < pl->n_blks; i++)
    pl->naive += gm__dnn_round_up(pl->blks[i].bytes);
  pl->size[EVAL] = gm__dnn_place(pl, EVAL);
  if (pl->size[EVAL] == SIZE_MAX || !gm__dnn_zero_lists(d, pl, EVAL))
    return gm__dnn_nomem(d, pl->n_blks * sizeof(struct blk));
  if (!gm__dnn_need(d, &d->arena, pl->size[EVAL] ? pl->size[EVAL] : 1))
    return gm__dnn_nomem(d, pl->size[EVAL]);
  return GM_OK;
}

static enum gm_status plan_create(struct dnn *d, int n, struct plan **out) {
  const int id = gm_nn_output(d->net);
  enum gm_status rc = GM_OK;
  struct plan *pl = calloc(1, sizeof(*pl));
  struct iplan *ip = calloc(1, sizeof(*ip));
  if (pl)
    pl->inf = ip;
  if (!pl || !ip || !(ip->v = calloc((size_t)d->n_nodes, sizeof(*ip->v))) ||
      !(ip->done = calloc((size_t)d->n_nodes, sizeof(bool)))) {
    if (!pl)
      gm__dnn_infer_plan_free(ip);
    rc = gm__dnn_nomem(d, sizeof(*pl));
    goto fail;
  }
  pl->n = n;
  pl->id = ++d->next_plan;
  pl->mode = -1;
  for (int i = 0; i < d->n_nodes; i++)
    ip->v[i].blk = -1;
  struct ib b = {d, pl, ip, n};
  dnnl_memory_desc_t in_md = shape_md(n, shape_of(d, 0), dnnl_abcd);
  TRY(value_new(&b, 0, &in_md));
  for (int i = 1; i < d->n_nodes; i++)
    if (!ip->done[i])
      TRY(build_node(&b, i));
  /* the host boundary at the output */
  const struct ival *v = &ip->v[id];
  dnnl_memory_desc_t host = shape_md(n, shape_of(d, id), dnnl_abcd);
  pl->out_plain = md_eq(&host, &v->md);
  if (!pl->out_plain) {
    TRY(gm__dnn_mem_at(d, pl, &host, DNNL_MEMORY_NONE, &pl->out_host));
    TRY(gm__dnn_reorder(d, pl, id, &pl->out_re, &v->md, v->m, &host,
                        pl->out_host, false, 1.0f));
  }
  TRY(place_plan(&b));
  *out = pl;
  return GM_OK;
fail:
  gm__dnn_plan_free(pl);
  return rc;
}

enum gm_status gm__dnn_infer_plan(struct dnn *d, int n, struct plan **out) {
  enum gm_status rc = GM_OK;
  struct infer *inf = d->inf;
  struct plan *pl = NULL;
  int slot = -1;
  for (int i = 0; i < MAX_PLANS; i++)
    if (inf->plans[i] && inf->plans[i]->n == n)
      pl = inf->plans[i];
  if (!pl) {
    for (int i = 0; i < MAX_PLANS && slot < 0; i++)
      if (!inf->plans[i])
        slot = i;
    if (slot < 0) {
      slot = 0;
      for (int i = 1; i < MAX_PLANS; i++)
        if (inf->plans[i]->used < inf->plans[slot]->used)
          slot = i;
      gm__dnn_plan_free(inf->plans[slot]);
      inf->plans[slot] = NULL;
    }
    TRY(plan_create(d, n, &pl));
    inf->plans[slot] = pl;
  }
  if (pl->gen != d->gen || pl->mode != EVAL)
    TRY(gm__dnn_plan_bind(d, pl, EVAL));
  pl->used = ++d->tick;
  *out = pl;
fail:
  return rc;
}

/* ---- running ------------------------------------------------------------ */

enum gm_status gm__dnn_infer_forward(struct dnn *d, const float *x, int n,
                                     float *out) {
  enum gm_status rc = GM_OK;
  struct infer *inf = d->inf;
  struct plan *pl;
  int id = -1;
  TRY(gm__dnn_infer_plan(d, n, &pl));
  struct iplan *ip = pl->inf;
  if (!inf->folded || inf->seen_p != d->pver || inf->seen_s != d->sver)
    fold_all(d);
  for (size_t k = 0; k < ip->n_w; k++) {
    struct nbufs *nb = &d->nb[ip->w[k].node];
    if (nb->wf_plan == pl->id && nb->wf_ver == inf->ver)
      continue;
    id = ip->w[k].node;
    RUN(&ip->w[k].p, "weight reorder");
    nb->wf_plan = pl->id;
    nb->wf_ver = inf->ver;
  }
  id = -1;
  int t = 0;
  gm__dnn_zero_step(d, pl, 0);
  memcpy(blk_ptr(d, pl, ip->v[0].blk), x,
         (size_t)n * numel(shape_of(d, 0)) * sizeof(float));
  for (size_t k = 0; k < ip->n_steps; k++) {
    while (t < ip->steps[k].t)
      gm__dnn_zero_step(d, pl, ++t);
    id = ip->steps[k].t;
    RUN(&ip->steps[k].p, "inference step");
  }
  while (t < d->n_nodes)
    gm__dnn_zero_step(d, pl, ++t);
  id = gm_nn_output(d->net);
  if (pl->out_plain) {
    CK(dnnl_stream_wait(d->strm), "stream wait");
    memcpy(out, blk_ptr(d, pl, ip->v[id].blk),
           (size_t)n * numel(shape_of(d, id)) * sizeof(float));
  } else {
    CK(dnnl_memory_set_data_handle(pl->out_host, out), "output binding");
    RUN(&pl->out_re, "output reorder");
    CK(dnnl_stream_wait(d->strm), "stream wait");
  }
fail:
  return rc;
}
