/* onednn.c: the CPU backend on oneDNN 2.x (C API, the Debian libdnnl2
 * package). Same semantics as ref.c, operator for operator; ref is the
 * oracle of tests/unit/test_nn_backends.c. This file holds the interface,
 * the training graph (training forwards, backward) and the plan machinery
 * shared through onednn.h; evaluation forwards run on the inference graph
 * of onednn_infer.c (batch norm folded, post-ops, forward_inference), or
 * on this graph's evaluation primitives when a test asks for the unfused
 * path (gm__nn_onednn_unfused_eval).
 *
 * Layouts. The parameters, their gradients, the momentum buffers and the
 * running statistics are kept once, in the host layout of greenml/engine.h
 * (PyTorch's: oihw / goihw, out x in, per-channel vectors), so get/set are
 * copies and SGD is a plain loop. Activations live in whatever layout the
 * primitive that writes them picked: convolutions are created with
 * format_tag any (blocked nChw16c for most layers, ONEDNN.md section 4),
 * and batch norm, the activations, pooling, shuffle and add keep the layout
 * of their input. Every edge of the graph (a node reading an input) names
 * the layout it wants; where the producer's differs, a reorder into a
 * staging copy runs first. Weights are reordered from the host layout into
 * the layout the forward convolution picked only when the parameters
 * changed (set_params, sgd_step) since the last reorder, and into the
 * backward-data layout, where that differs, at each backward pass.
 * Plain nchw is used where the work is a plain loop (dropout, drop path),
 * for flatten and the linear layers (2-D nc), and for concatenation and
 * slicing when the channel counts do not fall on the block size. The host
 * boundary (input, output, output gradient) is NCHW.
 *
 * Gradients. A node's output gradient has the layout of its output. The
 * backward pass visits the nodes from the output down; the first
 * contribution to an input's gradient overwrites it (written in place when
 * the layouts agree), later ones accumulate through a reorder with a sum
 * post-op. The net's input gets no gradient.
 *
 * Batch size. All primitives are created for one batch size n: a "plan".
 * The plan for max_batch is built at create; a forward of n < max_batch
 * builds the plan for n on first use and caches it (the MAX_PLANS most
 * recently used are kept). The scratchpads of all primitives share one
 * buffer (user scratchpad mode). Forward, backward and sgd_step allocate
 * nothing.
 *
 * Memory. Activations, output gradients, workspaces, batch masks and every
 * staging copy (layout changes on edges, the backward primitives' layouts,
 * blocked weight gradients) are tensors of the plan placed in one arena,
 * shared by all plans. A pass is a sequence of steps: the forward of each
 * node in order, the output copy, then the backward of each node from the
 * output down. The steps whose primitives or loops touch a tensor give its
 * lifetime, and tensors whose lifetimes do not meet share bytes: offsets
 * are planned once per plan (largest first, lowest fitting offset). Each
 * plan has two placements: training, where what a backward step reads (a
 * convolution's or batch norm's input, ReLU's output, a pooling workspace)
 * stays from its forward step to that backward step and a gradient lives
 * from its first contribution to its producer's backward step; and
 * evaluation, forward only, where an output lives until its last reader.
 * Memory objects are re-pointed when the placement in use changes. ReLU's
 * backward reads its output, so its input is not kept. The padding of
 * blocked layouts (channels beyond C up to the block) is zeroed before a
 * tensor's first use in each pass, since bytes are shared and oneDNN's
 * kernels read padding as zeros.
 *
 * Threads. libdnnl uses GNU OpenMP: cfg->threads > 0 is applied with
 * omp_set_num_threads around every call into oneDNN (primitive creation
 * included, as oneDNN sizes its work split then) and the caller's setting is
 * restored afterwards; 0 keeps the OpenMP default (OMP_NUM_THREADS, else
 * one thread per CPU). On machines whose vCPUs are time-shared, use 1
 * thread or OMP_WAIT_POLICY=PASSIVE (ONEDNN.md, threading).
 *
 * Masks: dropout and drop path draw exactly as ref.c does (same generator,
 * seed per node, NCHW element order, same float arithmetic), so both
 * backends give identical masks. */
#include <dnnl.h>
#include <dnnl_debug.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/backends/onednn.h"

/* ---- small helpers ------------------------------------------------------ */

enum gm_status gm__dnn_fail(struct dnn *d, dnnl_status_t st, int id,
                            const char *what) {
  gm__fmt(d->err, sizeof(d->err), "onednn: node %d (%s): %s failed: %s", id,
          id >= 0 ? gm__nn_op_name(node(d, id)->op) : "-", what,
          dnnl_status2str(st));
  return st == dnnl_out_of_memory ? GM_ERR_NO_MEMORY : GM_ERR_NOT_SUPPORTED;
}

enum gm_status gm__dnn_nomem(struct dnn *d, size_t bytes) {
  gm__fmt(d->err, sizeof(d->err), "onednn: cannot allocate %zu bytes", bytes);
  return GM_ERR_NO_MEMORY;
}

/* Activation layouts recognised where a layout must be reproduced for
 * another shape (channel multiply, concat, slice). */
const dnnl_format_tag_t gm__dnn_act_tags[N_ACT_TAGS] = {
    dnnl_abcd, dnnl_aBcd16b, dnnl_aBcd8b, dnnl_aBcd4b, dnnl_acdb};
const int gm__dnn_act_blocks[N_ACT_TAGS] = {1, 16, 8, 4, 1};

int gm__dnn_find_tag(const dnnl_memory_desc_t *md) {
  if (md->ndims != 4)
    return -1;
  for (int i = 0; i < N_ACT_TAGS; i++) {
    dnnl_memory_desc_t t =
        md4((int)md->dims[0], (int)md->dims[1], (int)md->dims[2],
            (int)md->dims[3], gm__dnn_act_tags[i]);
    if (md_eq(&t, md))
      return i;
  }
  return -1;
}

/* ---- buffers, plans' registries ----------------------------------------- */

bool gm__dnn_need(struct dnn *d, struct buf *b, size_t bytes) {
  if (bytes <= b->cap)
    return true;
  if (bytes > SIZE_MAX - ALIGN)
    return false;
  void *raw = calloc(1, bytes + ALIGN);
  if (!raw)
    return false;
  free(b->raw);
  b->raw = raw;
  b->p = (char *)raw + (ALIGN - (uintptr_t)raw % ALIGN) % ALIGN;
  b->cap = bytes;
  d->gen++;
  for (int i = 0; i < d->n_nodes; i++)
    d->nb[i].wf_plan = 0; /* may have moved */
  return true;
}

void gm__dnn_buf_free(struct buf *b) {
  free(b->raw);
  b->raw = b->p = NULL;
  b->cap = 0;
}

bool gm__dnn_grow(void **arr, size_t *n, size_t *cap, size_t elem) {
  if (*n < *cap)
    return true;
  size_t nc = *cap ? 2 * *cap : 64;
  void *na = realloc(*arr, nc * elem);
  if (!na)
    return false;
  *arr = na;
  *cap = nc;
  return true;
}

/* Memory on buffer b (grown to fit md), re-pointed whenever b moves. */
enum gm_status gm__dnn_mem_on(struct dnn *d, struct plan *pl,
                              const dnnl_memory_desc_t *md, struct buf *b,
                              dnnl_memory_t *out) {
  const int id = -1;
  enum gm_status rc = GM_OK;
  size_t bytes = md_bytes(md);
  if (!gm__dnn_need(d, b, bytes ? bytes : 1) ||
      !gm__dnn_grow((void **)&pl->mems, &pl->n_mems, &pl->cap_mems,
                    sizeof(*pl->mems))) {
    rc = gm__dnn_nomem(d, bytes);
    goto fail;
  }
  CK(dnnl_memory_create(out, md, d->eng, b->p), "memory creation");
  pl->mems[pl->n_mems++] = (struct binding){*out, b, -1};
fail:
  return rc;
}

/* Memory on fixed storage (the host-layout parameters and statistics, or
 * NULL for a handle set at each use). */
enum gm_status gm__dnn_mem_at(struct dnn *d, struct plan *pl,
                              const dnnl_memory_desc_t *md, void *ptr,
                              dnnl_memory_t *out) {
  const int id = -1;
  enum gm_status rc = GM_OK;
  if (!gm__dnn_grow((void **)&pl->mems, &pl->n_mems, &pl->cap_mems,
                    sizeof(*pl->mems))) {
    rc = gm__dnn_nomem(d, sizeof(*pl->mems));
    goto fail;
  }
  CK(dnnl_memory_create(out, md, d->eng, ptr), "memory creation");
  pl->mems[pl->n_mems++] = (struct binding){*out, NULL, -1};
fail:
  return rc;
}

static bool gm__dnn_has_padding(const dnnl_memory_desc_t *md) {
  if (md->format_kind != dnnl_blocked)
    return false;
  for (int i = 0; i < md->ndims; i++)
    if (md->padded_dims[i] != md->dims[i])
      return true;
  return false;
}

/* A new tensor of the plan, for layout md (placed after the build). */
enum gm_status gm__dnn_blk_new(struct dnn *d, struct plan *pl,
                               const dnnl_memory_desc_t *md, int *out) {
  if (!gm__dnn_grow((void **)&pl->blks, &pl->n_blks, &pl->cap_blks,
                    sizeof(*pl->blks)))
    return gm__dnn_nomem(d, sizeof(*pl->blks));
  struct blk *t = &pl->blks[pl->n_blks];
  memset(t, 0, sizeof(*t));
  t->md = *md;
  t->bytes = md_bytes(md);
  t->padded = gm__dnn_has_padding(md);
  for (int m = 0; m < N_MODES; m++) {
    t->t0[m] = INT_MAX;
    t->t1[m] = -1;
  }
  *out = (int)pl->n_blks++;
  return GM_OK;
}

/* Memory md on tensor blk (its layout or a view of it), pointed at the
 * tensor's place when the plan is bound. */
enum gm_status gm__dnn_mem_blk(struct dnn *d, struct plan *pl,
                               const dnnl_memory_desc_t *md, int blk,
                               dnnl_memory_t *out) {
  const int id = -1;
  enum gm_status rc = GM_OK;
  if (!gm__dnn_grow((void **)&pl->mems, &pl->n_mems, &pl->cap_mems,
                    sizeof(*pl->mems))) {
    rc = gm__dnn_nomem(d, sizeof(*pl->mems));
    goto fail;
  }
  size_t bytes = md_bytes(md);
  if (bytes > pl->blks[blk].bytes)
    pl->blks[blk].bytes = bytes;
  CK(dnnl_memory_create(out, md, d->eng, DNNL_MEMORY_NONE), "memory creation");
  pl->mems[pl->n_mems++] = (struct binding){*out, NULL, blk};
fail:
  return rc;
}

/* A new tensor for md and its memory. */
enum gm_status gm__dnn_mem_new(struct dnn *d, struct plan *pl,
                               const dnnl_memory_desc_t *md, int *blk,
                               dnnl_memory_t *out) {
  enum gm_status rc = gm__dnn_blk_new(d, pl, md, blk);
  return rc == GM_OK ? gm__dnn_mem_blk(d, pl, md, *blk, out) : rc;
}

enum gm_status gm__dnn_make_pd(struct dnn *d, struct plan *pl, int id,
                               dnnl_primitive_desc_t *pd, const void *desc,
                               const_dnnl_primitive_desc_t hint,
                               const char *what) {
  enum gm_status rc = GM_OK;
  if (!gm__dnn_grow((void **)&pl->pds, &pl->n_pds, &pl->cap_pds,
                    sizeof(*pl->pds))) {
    rc = gm__dnn_nomem(d, sizeof(*pl->pds));
    goto fail;
  }
  CK(dnnl_primitive_desc_create(pd, desc, d->attr, d->eng, hint), what);
  pl->pds[pl->n_pds++] = *pd;
fail:
  return rc;
}

/* The primitive of pd, with its scratchpad on the shared arena. */
enum gm_status gm__dnn_make_prim(struct dnn *d, struct plan *pl, int id,
                                 struct prim *pr,
                                 const_dnnl_primitive_desc_t pd,
                                 const char *what) {
  enum gm_status rc = GM_OK;
  if (!gm__dnn_grow((void **)&pl->prims, &pl->n_prims, &pl->cap_prims,
                    sizeof(*pl->prims))) {
    rc = gm__dnn_nomem(d, sizeof(*pl->prims));
    goto fail;
  }
  CK(dnnl_primitive_create(&pr->p, pd), what);
  pl->prims[pl->n_prims++] = pr->p;
  pr->nargs = 0;
  const dnnl_memory_desc_t *smd =
      dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  if (smd && smd->ndims > 0 && md_bytes(smd) > 0) {
    dnnl_memory_t sm;
    TRY(gm__dnn_mem_on(d, pl, smd, &d->scratch, &sm));
    arg(pr, DNNL_ARG_SCRATCHPAD, sm);
  }
fail:
  return rc;
}

/* A reorder from -> to; accumulate adds to what "to" holds (sum post-op);
 * scale multiplies the source. */
enum gm_status gm__dnn_reorder(struct dnn *d, struct plan *pl, int id,
                               struct prim *pr,
                               const dnnl_memory_desc_t *from_md,
                               dnnl_memory_t from,
                               const dnnl_memory_desc_t *to_md,
                               dnnl_memory_t to, bool accumulate, float scale) {
  enum gm_status rc = GM_OK;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  dnnl_primitive_desc_t pd = NULL;
  CK(dnnl_primitive_attr_create(&attr), "attribute creation");
  CK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
     "scratchpad mode");
  if (accumulate) {
    CK(dnnl_post_ops_create(&po), "post-ops creation");
    CK(dnnl_post_ops_append_sum(po, 1.0f), "sum post-op");
    CK(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops");
  }
  if (scale != 1.0f)
    CK(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale),
       "output scales");
  if (!gm__dnn_grow((void **)&pl->pds, &pl->n_pds, &pl->cap_pds,
                    sizeof(*pl->pds))) {
    rc = gm__dnn_nomem(d, sizeof(*pl->pds));
    goto fail;
  }
  CK(dnnl_reorder_primitive_desc_create(&pd, from_md, d->eng, to_md, d->eng,
                                        attr),
     "reorder creation");
  pl->pds[pl->n_pds++] = pd;
  TRY(gm__dnn_make_prim(d, pl, id, pr, pd, "reorder creation"));
  arg(pr, DNNL_ARG_FROM, from);
  arg(pr, DNNL_ARG_TO, to);
fail:
  dnnl_post_ops_destroy(po);
  dnnl_primitive_attr_destroy(attr);
  return rc;
}

void gm__dnn_plan_free(struct plan *pl) {
  if (!pl)
    return;
  for (size_t i = 0; i < pl->n_prims; i++)
    dnnl_primitive_destroy(pl->prims[i]);
  for (size_t i = 0; i < pl->n_pds; i++)
    dnnl_primitive_desc_destroy(pl->pds[i]);
  for (size_t i = 0; i < pl->n_mems; i++)
    dnnl_memory_destroy(pl->mems[i].m);
  for (int m = 0; m < N_MODES; m++) {
    free(pl->zidx[m]);
    free(pl->zlist[m]);
  }
  free(pl->prims);
  free(pl->pds);
  free(pl->mems);
  free(pl->blks);
  free(pl->nodes);
  gm__dnn_infer_plan_free(pl->inf);
  free(pl);
}

/* Points every memory of the plan at its storage, arena tensors at their
 * place in placement mode. */
enum gm_status gm__dnn_plan_bind(struct dnn *d, struct plan *pl, int mode) {
  const int id = -1;
  enum gm_status rc = GM_OK;
  for (size_t i = 0; i < pl->n_mems; i++) {
    const struct binding *b = &pl->mems[i];
    void *p = b->b          ? b->b->p
              : b->blk >= 0 ? (char *)d->arena.p + pl->blks[b->blk].off[mode]
                            : NULL;
    if (p)
      CK(dnnl_memory_set_data_handle(b->m, p), "memory binding");
  }
  pl->gen = d->gen;
  pl->mode = mode;
fail:
  return rc;
}

/* ---- building a plan: edges ---------------------------------------------- */

static bool wants_grad(const struct dnn *d, const struct plan *pl, int id,
                       int slot) {
  int src = node(d, id)->in[slot];
  return pl->nodes[id].bwd && src != 0 && d->anc[src];
}

/* The node reads input slot in layout want. */
static enum gm_status edge_in(struct dnn *d, struct plan *pl, int id, int slot,
                              const dnnl_memory_desc_t *want) {
  enum gm_status rc = GM_OK;
  struct pedge *e = &pl->nodes[id].e[slot];
  const int src = node(d, id)->in[slot];
  struct pnode *ps = &pl->nodes[src];
  e->want = *want;
  if (md_eq(want, &ps->ymd)) {
    e->xb = ps->yb;
    e->x = ps->y;
    return GM_OK;
  }
  TRY(gm__dnn_mem_new(d, pl, want, &e->xb, &e->x));
  TRY(gm__dnn_reorder(d, pl, id, &e->re, &ps->ymd, ps->y, want, e->x, false,
                      1.0f));
fail:
  return rc;
}

/* The node gives input slot its gradient in layout g. With own, the
 * gradient already exists there (scaled by scale on the way); otherwise
 * the node writes it into e->gm: the input's gradient itself when this is
 * the first contribution and the layouts agree, else a staging copy
 * accumulated afterwards. own_blk is own's tensor. */
static enum gm_status edge_grad(struct dnn *d, struct plan *pl, int id,
                                int slot, const dnnl_memory_desc_t *g,
                                dnnl_memory_t own, int own_blk, float scale) {
  enum gm_status rc = GM_OK;
  struct pedge *e = &pl->nodes[id].e[slot];
  const int src = node(d, id)->in[slot];
  struct pnode *ps = &pl->nodes[src];
  if (!wants_grad(d, pl, id, slot))
    return GM_OK;
  e->grad = true;
  e->first = d->first_id[src] == id && d->first_slot[src] == slot;
  e->gmd = *g;
  if (own) {
    e->gm = own;
    e->gb = own_blk;
  } else if (e->first && scale == 1.0f && md_eq(g, &ps->ymd)) {
    e->gb = ps->dyb;
    e->gm = ps->dy;
    return GM_OK;
  } else {
    TRY(gm__dnn_mem_new(d, pl, g, &e->gb, &e->gm));
  }
  TRY(gm__dnn_reorder(d, pl, id, &e->acc, g, e->gm, &ps->ymd, ps->dy, !e->first,
                      scale));
fail:
  return rc;
}

/* The node's output (and output gradient) memories, layout pn->ymd. */
static enum gm_status node_out(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  struct pnode *pn = &pl->nodes[id];
  TRY(gm__dnn_mem_new(d, pl, &pn->ymd, &pn->yb, &pn->y));
  if (d->live[id] && d->anc[id])
    TRY(gm__dnn_mem_new(d, pl, &pn->ymd, &pn->dyb, &pn->dy));
fail:
  return rc;
}

/* Output-gradient memory in layout want for a backward primitive: the
 * gradient itself, or a staging copy made by *re. */
static enum gm_status dy_as(struct dnn *d, struct plan *pl, int id,
                            const dnnl_memory_desc_t *want, struct prim *re,
                            dnnl_memory_t *out) {
  enum gm_status rc = GM_OK;
  struct pnode *pn = &pl->nodes[id];
  int blk;
  if (md_eq(want, &pn->ymd)) {
    *out = pn->dy;
    return GM_OK;
  }
  TRY(gm__dnn_mem_new(d, pl, want, &blk, out));
  TRY(gm__dnn_reorder(d, pl, id, re, &pn->ymd, pn->dy, want, *out, false,
                      1.0f));
fail:
  return rc;
}

/* ---- building a plan: operators ------------------------------------------ */

/* Weights: the host-layout memory user (on the parameters), and the
 * layout want of a primitive: the same memory, or a copy in b made by *re. */
static enum gm_status weights_as(struct dnn *d, struct plan *pl, int id,
                                 const dnnl_memory_desc_t *user_md,
                                 dnnl_memory_t user,
                                 const dnnl_memory_desc_t *want, struct buf *b,
                                 struct prim *re, dnnl_memory_t *out) {
  enum gm_status rc = GM_OK;
  if (md_eq(want, user_md)) {
    *out = user;
    return GM_OK;
  }
  TRY(gm__dnn_mem_on(d, pl, want, b, out));
  TRY(gm__dnn_reorder(d, pl, id, re, user_md, user, want, *out, false, 1.0f));
fail:
  return rc;
}

/* A linear layer's output gradient as the 2-D operand md2 of its backward
 * primitives: a view of the gradient itself in float32; in bf16 a
 * converted copy made by *re. */
static enum gm_status dy_2d(struct dnn *d, struct plan *pl, int id,
                            const dnnl_memory_desc_t *md2, struct prim *re,
                            dnnl_memory_t *out) {
  enum gm_status rc = GM_OK;
  struct pnode *pn = &pl->nodes[id];
  if (md2->data_type == pn->ymd.data_type)
    return gm__dnn_mem_blk(d, pl, md2, pn->dyb, out);
  dnnl_memory_desc_t want = md_dt(pn->ymd, md2->data_type);
  dnnl_memory_t m;
  int blk;
  TRY(gm__dnn_mem_new(d, pl, &want, &blk, &m));
  TRY(gm__dnn_reorder(d, pl, id, re, &pn->ymd, pn->dy, &want, m, false, 1.0f));
  TRY(gm__dnn_mem_blk(d, pl, md2, blk, out));
fail:
  return rc;
}

/* Convolution and linear share the weight handling; linear is a 2-D inner
 * product on nc views of nchw (N x C x 1 x 1) tensors. The operands are in
 * d->cdt (forward: input and weights; backward data: output gradient and
 * weights; backward weights: input and output gradient); what the
 * primitives write (output, input gradient, weight and bias gradients)
 * and the bias are float32, so in bf16 the operands are converted copies:
 * the inputs and output gradients on the edges, the weights from the
 * float32 master copy whenever it changed. */
static enum gm_status build_conv_linear(struct dnn *d, struct plan *pl,
                                        int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  const bool conv = nd->op == GM_NN_CONV2D;
  struct pnode *pn = &pl->nodes[id];
  struct nbufs *b = &d->nb[id];
  const int src = nd->in[0], n = pl->n;
  const struct gm_nn_shape is = shape_of(d, src), os = nd->shape;
  int blk;
  dnnl_memory_desc_t x_md, y_md, w_any, w_user, bias_md = md1(os.c);
  dnnl_dims_t strides = {nd->stride, nd->stride}, pad = {nd->pad, nd->pad};
  union {
    dnnl_convolution_desc_t c;
    dnnl_inner_product_desc_t ip;
  } desc;
  dnnl_primitive_desc_t pd_f, pd_bd, pd_bw;
  const dnnl_memory_desc_t *bias = nd->bias ? &bias_md : NULL;
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
  const dnnl_memory_desc_t xc = md_dt(x_md, d->cdt), wc = md_dt(w_any, d->cdt),
                           yc = md_dt(y_md, d->cdt);
  if (conv)
    CK(dnnl_convolution_forward_desc_init(&desc.c, dnnl_forward_training,
                                          dnnl_convolution_direct, &xc, &wc,
                                          bias, &y_md, strides, pad, pad),
       "convolution forward descriptor");
  else
    CK(dnnl_inner_product_forward_desc_init(&desc.ip, dnnl_forward_training,
                                            &xc, &wc, bias, &y_md),
       "inner product forward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_f, &desc, NULL, "forward creation"));

  /* forward */
  dnnl_memory_t x, y, wu, wf, bu = NULL;
  if (conv) {
    dnnl_memory_desc_t want = qmd(pd_f, dnnl_query_src_md);
    TRY(edge_in(d, pl, id, 0, &want));
    pn->ymd = qmd(pd_f, dnnl_query_dst_md);
    TRY(node_out(d, pl, id));
    x = pn->e[0].x;
    y = pn->y;
  } else {
    dnnl_memory_desc_t want = md_dt(shape_md(n, is, dnnl_abcd), d->cdt);
    TRY(edge_in(d, pl, id, 0, &want));
    pn->ymd = shape_md(n, os, dnnl_abcd);
    TRY(node_out(d, pl, id));
    TRY(gm__dnn_mem_blk(d, pl, &xc, pn->e[0].xb, &x));
    TRY(gm__dnn_mem_blk(d, pl, &y_md, pn->yb, &y));
  }
  TRY(gm__dnn_mem_at(d, pl, &w_user, param(d, nd->weight), &wu));
  dnnl_memory_desc_t wf_md = qmd(pd_f, dnnl_query_weights_md);
  TRY(weights_as(d, pl, id, &w_user, wu, &wf_md, &b->wf, &pn->wf_re, &wf));
  if (bias)
    TRY(gm__dnn_mem_at(d, pl, bias, param(d, nd->bias_param), &bu));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd_f, "forward creation"));
  arg(&pn->f, DNNL_ARG_SRC, x);
  arg(&pn->f, DNNL_ARG_WEIGHTS, wf);
  if (bias)
    arg(&pn->f, DNNL_ARG_BIAS, bu);
  arg(&pn->f, DNNL_ARG_DST, y);
  if (!pn->bwd)
    goto fail; /* done */

  /* backward data */
  dnnl_memory_t dy_bd = NULL;
  dnnl_memory_desc_t dd_md;
  if (wants_grad(d, pl, id, 0)) {
    if (conv)
      CK(dnnl_convolution_backward_data_desc_init(
             &desc.c, dnnl_convolution_direct, &x_md, &wc, &yc, strides, pad,
             pad),
         "convolution backward data descriptor");
    else
      CK(dnnl_inner_product_backward_data_desc_init(&desc.ip, &x_md, &wc, &yc),
         "inner product backward data descriptor");
    TRY(gm__dnn_make_pd(d, pl, id, &pd_bd, &desc, pd_f,
                        "backward data creation"));
    dnnl_memory_desc_t wb_md = qmd(pd_bd, dnnl_query_weights_md);
    dnnl_memory_t wb;
    if (md_eq(&wb_md, &wf_md)) {
      wb = wf; /* refreshed by the forward pass */
    } else if (md_eq(&wb_md, &w_user)) {
      wb = wu;
    } else {
      TRY(gm__dnn_mem_new(d, pl, &wb_md, &blk, &wb));
      TRY(gm__dnn_reorder(d, pl, id, &pn->wb_re, &w_user, wu, &wb_md, wb, false,
                          1.0f));
    }
    dnnl_memory_t gm;
    if (conv) {
      dd_md = qmd(pd_bd, dnnl_query_diff_dst_md);
      TRY(dy_as(d, pl, id, &dd_md, &pn->dyd_re, &dy_bd));
      dnnl_memory_desc_t g = qmd(pd_bd, dnnl_query_diff_src_md);
      TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
      gm = pn->e[0].gm;
    } else {
      dd_md = yc;
      TRY(dy_2d(d, pl, id, &yc, &pn->dyd_re, &dy_bd));
      dnnl_memory_desc_t g = shape_md(n, is, dnnl_abcd);
      TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
      TRY(gm__dnn_mem_blk(d, pl, &x_md, pn->e[0].gb, &gm));
    }
    TRY(gm__dnn_make_prim(d, pl, id, &pn->bd, pd_bd, "backward data creation"));
    arg(&pn->bd, DNNL_ARG_DIFF_DST, dy_bd);
    arg(&pn->bd, DNNL_ARG_WEIGHTS, wb);
    arg(&pn->bd, DNNL_ARG_DIFF_SRC, gm);
  }

  /* backward weights */
  if (conv)
    CK(dnnl_convolution_backward_weights_desc_init(
           &desc.c, dnnl_convolution_direct, &xc, &w_any, bias, &yc, strides,
           pad, pad),
       "convolution backward weights descriptor");
  else
    CK(dnnl_inner_product_backward_weights_desc_init(&desc.ip, &xc, &w_any,
                                                     bias, &yc),
       "inner product backward weights descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_bw, &desc, pd_f,
                      "backward weights creation"));
  dnnl_memory_t xw, dyw, gw, gu, gbias = NULL;
  dnnl_memory_desc_t xw_md = qmd(pd_bw, dnnl_query_src_md);
  dnnl_memory_desc_t fx_md = conv ? pn->e[0].want : xc;
  const struct pnode *ps = &pl->nodes[src];
  if (conv && pn->e[0].re.p) {
    /* staged in the forward pass: staged again from the producer's output
     * (often kept for its own backward), so the copy is not kept */
    TRY(gm__dnn_mem_new(d, pl, &xw_md, &blk, &xw));
    TRY(gm__dnn_reorder(d, pl, id, &pn->xw_re, &ps->ymd, ps->y, &xw_md, xw,
                        false, 1.0f));
  } else if (md_eq(&xw_md, &fx_md)) {
    xw = x;
  } else {
    TRY(gm__dnn_mem_new(d, pl, &xw_md, &blk, &xw));
    TRY(gm__dnn_reorder(d, pl, id, &pn->xw_re, &fx_md, x, &xw_md, xw, false,
                        1.0f));
  }
  dnnl_memory_desc_t dw_md = qmd(pd_bw, dnnl_query_diff_dst_md);
  if (!conv && dy_bd)
    dyw = dy_bd;
  else if (!conv)
    TRY(dy_2d(d, pl, id, &yc, &pn->dyw_re, &dyw));
  else if (dy_bd && md_eq(&dw_md, &dd_md))
    dyw = dy_bd;
  else
    TRY(dy_as(d, pl, id, &dw_md, &pn->dyw_re, &dyw));
  TRY(gm__dnn_mem_at(d, pl, &w_user, grad(d, nd->weight), &gu));
  dnnl_memory_desc_t gw_md = qmd(pd_bw, dnnl_query_diff_weights_md);
  if (md_eq(&gw_md, &w_user))
    gw = gu;
  else {
    TRY(gm__dnn_mem_new(d, pl, &gw_md, &blk, &gw));
    TRY(gm__dnn_reorder(d, pl, id, &pn->dw_re, &gw_md, gw, &w_user, gu, false,
                        1.0f));
  }
  if (bias)
    TRY(gm__dnn_mem_at(d, pl, bias, grad(d, nd->bias_param), &gbias));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->bw, pd_bw,
                        "backward weights creation"));
  arg(&pn->bw, DNNL_ARG_SRC, xw);
  arg(&pn->bw, DNNL_ARG_DIFF_DST, dyw);
  arg(&pn->bw, DNNL_ARG_DIFF_WEIGHTS, gw);
  if (bias)
    arg(&pn->bw, DNNL_ARG_DIFF_BIAS, gbias);
fail:
  return rc;
}

static enum gm_status build_bn(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  struct nbufs *b = &d->nb[id];
  const int src = nd->in[0];
  const unsigned flags = dnnl_use_scale | dnnl_use_shift;
  dnnl_memory_desc_t x_md = pl->nodes[src].ymd, c_md = md1(nd->shape.c);
  dnnl_batch_normalization_desc_t desc;
  dnnl_primitive_desc_t pd_t, pd_e, pd_b;
  TRY(edge_in(d, pl, id, 0, &x_md));
  CK(dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_training,
                                                &x_md, BN_EPS, flags),
     "batch norm forward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_t, &desc, NULL,
                      "batch norm forward creation"));
  pn->ymd = qmd(pd_t, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  dnnl_memory_t scale, shift, mean, var, rmean, rvar;
  TRY(gm__dnn_mem_at(d, pl, &c_md, param(d, nd->weight), &scale));
  TRY(gm__dnn_mem_at(d, pl, &c_md, param(d, nd->bias_param), &shift));
  TRY(gm__dnn_mem_on(d, pl, &c_md, &b->mean, &mean));
  TRY(gm__dnn_mem_on(d, pl, &c_md, &b->var, &var));
  TRY(gm__dnn_mem_at(d, pl, &c_md, d->stats + d->soff[nd->running_mean],
                     &rmean));
  TRY(gm__dnn_mem_at(d, pl, &c_md, d->stats + d->soff[nd->running_var], &rvar));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd_t,
                        "batch norm forward creation"));
  arg(&pn->f, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  arg(&pn->f, DNNL_ARG_SCALE, scale);
  arg(&pn->f, DNNL_ARG_SHIFT, shift);
  arg(&pn->f, DNNL_ARG_MEAN, mean);
  arg(&pn->f, DNNL_ARG_VARIANCE, var);

  CK(dnnl_batch_normalization_forward_desc_init(&desc, dnnl_forward_inference,
                                                &x_md, BN_EPS,
                                                flags | dnnl_use_global_stats),
     "batch norm inference descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_e, &desc, NULL,
                      "batch norm inference creation"));
  dnnl_memory_desc_t ye = qmd(pd_e, dnnl_query_dst_md);
  if (!md_eq(&ye, &pn->ymd))
    CK(dnnl_unimplemented, "batch norm inference (layout differs)");
  TRY(gm__dnn_make_prim(d, pl, id, &pn->fe, pd_e,
                        "batch norm inference creation"));
  arg(&pn->fe, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->fe, DNNL_ARG_DST, pn->y);
  arg(&pn->fe, DNNL_ARG_SCALE, scale);
  arg(&pn->fe, DNNL_ARG_SHIFT, shift);
  arg(&pn->fe, DNNL_ARG_MEAN, rmean);
  arg(&pn->fe, DNNL_ARG_VARIANCE, rvar);
  if (!pn->bwd)
    goto fail;

  CK(dnnl_batch_normalization_backward_desc_init(&desc, dnnl_backward, &pn->ymd,
                                                 &x_md, BN_EPS, flags),
     "batch norm backward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_b, &desc, pd_t,
                      "batch norm backward creation"));
  dnnl_memory_desc_t dd_md = qmd(pd_b, dnnl_query_diff_dst_md);
  dnnl_memory_desc_t g = qmd(pd_b, dnnl_query_diff_src_md);
  dnnl_memory_t dy, gm, dscale, dshift;
  TRY(dy_as(d, pl, id, &dd_md, &pn->dyd_re, &dy));
  TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
  if (pn->e[0].grad) {
    gm = pn->e[0].gm;
  } else { /* the input needs no gradient: a sink */
    int sink;
    TRY(gm__dnn_mem_new(d, pl, &g, &sink, &gm));
  }
  TRY(gm__dnn_mem_at(d, pl, &c_md, grad(d, nd->weight), &dscale));
  TRY(gm__dnn_mem_at(d, pl, &c_md, grad(d, nd->bias_param), &dshift));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->bd, pd_b,
                        "batch norm backward creation"));
  arg(&pn->bd, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->bd, DNNL_ARG_MEAN, mean);
  arg(&pn->bd, DNNL_ARG_VARIANCE, var);
  arg(&pn->bd, DNNL_ARG_DIFF_DST, dy);
  arg(&pn->bd, DNNL_ARG_SCALE, scale);
  arg(&pn->bd, DNNL_ARG_SHIFT, shift); /* required though unused */
  arg(&pn->bd, DNNL_ARG_DIFF_SRC, gm);
  arg(&pn->bd, DNNL_ARG_DIFF_SCALE, dscale);
  arg(&pn->bd, DNNL_ARG_DIFF_SHIFT, dshift);
fail:
  return rc;
}

static enum gm_status build_eltwise(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int src = nd->in[0];
  /* ReLU's backward reads the output (y > 0 exactly where x > 0) */
  const bool use_dst = nd->op == GM_NN_RELU;
  dnnl_alg_kind_t alg = use_dst ? dnnl_eltwise_relu_use_dst_for_bwd
                        : nd->op == GM_NN_SIGMOID ? dnnl_eltwise_logistic
                                                  : dnnl_eltwise_swish;
  const float alpha = nd->op == GM_NN_SWISH ? 1.0f : 0.0f;
  dnnl_memory_desc_t x_md = pl->nodes[src].ymd;
  dnnl_eltwise_desc_t desc;
  dnnl_primitive_desc_t pd_f, pd_b;
  TRY(edge_in(d, pl, id, 0, &x_md));
  CK(dnnl_eltwise_forward_desc_init(&desc, dnnl_forward_training, alg, &x_md,
                                    alpha, 0.0f),
     "eltwise forward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_f, &desc, NULL,
                      "eltwise forward creation"));
  pn->ymd = qmd(pd_f, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd_f, "eltwise forward creation"));
  arg(&pn->f, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  if (!wants_grad(d, pl, id, 0))
    goto fail;
  CK(dnnl_eltwise_backward_desc_init(&desc, alg, &pn->ymd,
                                     use_dst ? &pn->ymd : &x_md, alpha, 0.0f),
     "eltwise backward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_b, &desc, pd_f,
                      "eltwise backward creation"));
  dnnl_memory_desc_t dd_md = qmd(pd_b, dnnl_query_diff_dst_md);
  dnnl_memory_desc_t g = qmd(pd_b, dnnl_query_diff_src_md);
  dnnl_memory_t dy;
  TRY(dy_as(d, pl, id, &dd_md, &pn->dyd_re, &dy));
  TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->bd, pd_b, "eltwise backward creation"));
  if (use_dst)
    arg(&pn->bd, DNNL_ARG_DST, pn->y);
  else
    arg(&pn->bd, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->bd, DNNL_ARG_DIFF_DST, dy);
  arg(&pn->bd, DNNL_ARG_DIFF_SRC, pn->e[0].gm);
fail:
  return rc;
}

static enum gm_status build_pool(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int src = nd->in[0], n = pl->n;
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
  dnnl_memory_desc_t x_md = pl->nodes[src].ymd;
  dnnl_memory_desc_t x_any = shape_md(n, is, dnnl_format_tag_any);
  dnnl_memory_desc_t y_any = shape_md(n, nd->shape, dnnl_format_tag_any);
  dnnl_pooling_desc_t desc;
  dnnl_primitive_desc_t pd_f, pd_b;
  dnnl_memory_t ws = NULL;
  TRY(edge_in(d, pl, id, 0, &x_md));
  CK(dnnl_pooling_forward_desc_init(&desc, dnnl_forward_training, alg, &x_md,
                                    &y_any, strides, kernel, pad, pad),
     "pooling forward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_f, &desc, NULL,
                      "pooling forward creation"));
  pn->ymd = qmd(pd_f, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  dnnl_memory_desc_t ws_md = qmd(pd_f, dnnl_query_workspace_md);
  if (ws_md.ndims > 0)
    TRY(gm__dnn_mem_new(d, pl, &ws_md, &pn->wsb, &ws));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd_f, "pooling forward creation"));
  arg(&pn->f, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  if (ws)
    arg(&pn->f, DNNL_ARG_WORKSPACE, ws);
  if (!wants_grad(d, pl, id, 0))
    goto fail;
  /* In the forward layouts: with any, global pooling's backward picks
   * acdB16b and a reference kernel. */
  CK(dnnl_pooling_backward_desc_init(&desc, alg, &x_md, &pn->ymd, strides,
                                     kernel, pad, pad),
     "pooling backward descriptor");
  if (gm__dnn_make_pd(d, pl, id, &pd_b, &desc, pd_f,
                      "pooling backward creation") != GM_OK) {
    CK(dnnl_pooling_backward_desc_init(&desc, alg, &x_any, &y_any, strides,
                                       kernel, pad, pad),
       "pooling backward descriptor");
    TRY(gm__dnn_make_pd(d, pl, id, &pd_b, &desc, pd_f,
                        "pooling backward creation"));
    d->err[0] = '\0'; /* the first attempt's */
  }
  dnnl_memory_desc_t dd_md = qmd(pd_b, dnnl_query_diff_dst_md);
  dnnl_memory_desc_t g = qmd(pd_b, dnnl_query_diff_src_md);
  dnnl_memory_t dy;
  TRY(dy_as(d, pl, id, &dd_md, &pn->dyd_re, &dy));
  TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->bd, pd_b, "pooling backward creation"));
  arg(&pn->bd, DNNL_ARG_DIFF_DST, dy);
  arg(&pn->bd, DNNL_ARG_DIFF_SRC, pn->e[0].gm);
  if (ws)
    arg(&pn->bd, DNNL_ARG_WORKSPACE, ws);
fail:
  return rc;
}

/* Flatten: a copy of the input in nchw, read as N x CHW x 1 x 1. */
static enum gm_status build_flatten(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int src = nd->in[0];
  struct pnode *ps = &pl->nodes[src];
  dnnl_memory_desc_t w = shape_md(pl->n, shape_of(d, src), dnnl_abcd);
  dnnl_memory_t yw, dyw;
  pn->ymd = shape_md(pl->n, nd->shape, dnnl_abcd);
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_mem_blk(d, pl, &w, pn->yb, &yw));
  TRY(gm__dnn_reorder(d, pl, id, &pn->f, &ps->ymd, ps->y, &w, yw, false, 1.0f));
  if (!wants_grad(d, pl, id, 0))
    goto fail;
  TRY(gm__dnn_mem_blk(d, pl, &w, pn->dyb, &dyw));
  TRY(edge_grad(d, pl, id, 0, &w, dyw, pn->dyb, 1.0f));
fail:
  return rc;
}

/* Dropout and drop path: plain loops on nchw. */
static enum gm_status build_drop(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const size_t n = (size_t)pl->n;
  dnnl_memory_desc_t w = shape_md(pl->n, nd->shape, dnnl_abcd);
  size_t mask = (nd->op == GM_NN_DROPOUT ? n * numel(nd->shape) : n);
  const dnnl_dim_t mask_dims[1] = {(dnnl_dim_t)mask};
  dnnl_memory_desc_t mask_md = mdn(1, mask_dims, dnnl_a);
  TRY(edge_in(d, pl, id, 0, &w));
  pn->ymd = w;
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_blk_new(d, pl, &mask_md, &pn->wsb));
  TRY(edge_grad(d, pl, id, 0, &w, NULL, -1, 1.0f));
fail:
  return rc;
}

static enum gm_status build_add(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  dnnl_memory_desc_t x_md = pl->nodes[nd->in[0]].ymd;
  dnnl_binary_desc_t desc;
  dnnl_primitive_desc_t pd;
  TRY(edge_in(d, pl, id, 0, &x_md));
  TRY(edge_in(d, pl, id, 1, &x_md));
  CK(dnnl_binary_desc_init(&desc, dnnl_binary_add, &x_md, &x_md, &x_md),
     "binary add descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd, &desc, NULL, "binary add creation"));
  pn->ymd = qmd(pd, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd, "binary add creation"));
  arg(&pn->f, DNNL_ARG_SRC_0, pn->e[0].x);
  arg(&pn->f, DNNL_ARG_SRC_1, pn->e[1].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  for (int s = 0; s < 2; s++)
    TRY(edge_grad(d, pl, id, s, &pn->ymd, pn->dy, pn->dyb, 1.0f));
fail:
  return rc;
}

/* y = x * s per channel. dx = dy * s; ds = sum over H x W of dy * x, as an
 * average pooling of dy * x scaled by H x W on the way into ds. The scale
 * is read in x's layout (a blocked N x C x 1 x 1 keeps the jit kernels). */
static enum gm_status build_mul_channel(struct dnn *d, struct plan *pl,
                                        int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int n = pl->n;
  const struct gm_nn_shape os = nd->shape;
  dnnl_memory_desc_t x_md = pl->nodes[nd->in[0]].ymd, s_md;
  const int t = gm__dnn_find_tag(&x_md);
  if (t < 0) {
    x_md = shape_md(n, os, dnnl_abcd);
    s_md = md4(n, os.c, 1, 1, dnnl_abcd);
  } else {
    s_md = md4(n, os.c, 1, 1, gm__dnn_act_tags[t]);
  }
  dnnl_memory_desc_t y_any = shape_md(n, os, dnnl_format_tag_any);
  dnnl_binary_desc_t desc;
  dnnl_pooling_desc_t pdesc;
  dnnl_primitive_desc_t pd, pd_dx, pd_t, pd_p;
  TRY(edge_in(d, pl, id, 0, &x_md));
  TRY(edge_in(d, pl, id, 1, &s_md));
  CK(dnnl_binary_desc_init(&desc, dnnl_binary_mul, &x_md, &s_md, &y_any),
     "binary mul descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd, &desc, NULL, "binary mul creation"));
  pn->ymd = qmd(pd, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd, "binary mul creation"));
  arg(&pn->f, DNNL_ARG_SRC_0, pn->e[0].x);
  arg(&pn->f, DNNL_ARG_SRC_1, pn->e[1].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  if (wants_grad(d, pl, id, 0)) {
    CK(dnnl_binary_desc_init(&desc, dnnl_binary_mul, &pn->ymd, &s_md, &y_any),
       "binary mul descriptor");
    TRY(gm__dnn_make_pd(d, pl, id, &pd_dx, &desc, NULL, "binary mul creation"));
    dnnl_memory_desc_t g = qmd(pd_dx, dnnl_query_dst_md);
    TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
    TRY(gm__dnn_make_prim(d, pl, id, &pn->bd, pd_dx, "binary mul creation"));
    arg(&pn->bd, DNNL_ARG_SRC_0, pn->dy);
    arg(&pn->bd, DNNL_ARG_SRC_1, pn->e[1].x);
    arg(&pn->bd, DNNL_ARG_DST, pn->e[0].gm);
  }
  if (wants_grad(d, pl, id, 1)) {
    CK(dnnl_binary_desc_init(&desc, dnnl_binary_mul, &pn->ymd, &x_md, &y_any),
       "binary mul descriptor");
    TRY(gm__dnn_make_pd(d, pl, id, &pd_t, &desc, NULL, "binary mul creation"));
    dnnl_memory_desc_t t_md = qmd(pd_t, dnnl_query_dst_md);
    dnnl_memory_desc_t s_any = md4(n, os.c, 1, 1, dnnl_format_tag_any);
    dnnl_dims_t kernel = {os.h, os.w}, strides = {1, 1}, pad = {0, 0};
    CK(dnnl_pooling_forward_desc_init(&pdesc, dnnl_forward_inference,
                                      dnnl_pooling_avg_exclude_padding, &t_md,
                                      &s_any, strides, kernel, pad, pad),
       "pooling descriptor");
    TRY(gm__dnn_make_pd(d, pl, id, &pd_p, &pdesc, NULL, "pooling creation"));
    dnnl_memory_desc_t g = qmd(pd_p, dnnl_query_dst_md);
    dnnl_memory_t tm, gm;
    int tb, gb;
    TRY(gm__dnn_mem_new(d, pl, &t_md, &tb, &tm));
    TRY(gm__dnn_mem_new(d, pl, &g, &gb, &gm));
    TRY(gm__dnn_make_prim(d, pl, id, &pn->aux1, pd_t, "binary mul creation"));
    arg(&pn->aux1, DNNL_ARG_SRC_0, pn->dy);
    arg(&pn->aux1, DNNL_ARG_SRC_1, pn->e[0].x);
    arg(&pn->aux1, DNNL_ARG_DST, tm);
    TRY(gm__dnn_make_prim(d, pl, id, &pn->aux2, pd_p, "pooling creation"));
    arg(&pn->aux2, DNNL_ARG_SRC, tm);
    arg(&pn->aux2, DNNL_ARG_DST, gm);
    TRY(edge_grad(d, pl, id, 1, &g, gm, gb, (float)(os.h * os.w)));
  }
fail:
  return rc;
}

/* Concatenation along channels: blocked when every input has the same
 * blocked layout and a channel count the block divides, else nchw. The
 * backward pass reads each input's part of dy as a sub-memory. */
static enum gm_status build_concat(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int n = pl->n;
  const struct gm_nn_shape os = nd->shape;
  dnnl_memory_desc_t w[GM_NN_MAX_INPUTS];
  dnnl_primitive_desc_t pd;
  int t = gm__dnn_find_tag(&pl->nodes[nd->in[0]].ymd);
  for (int i = 0; i < nd->n_in && t >= 0; i++) {
    const dnnl_memory_desc_t *p = &pl->nodes[nd->in[i]].ymd;
    if (gm__dnn_find_tag(p) != t ||
        shape_of(d, nd->in[i]).c % gm__dnn_act_blocks[t])
      t = -1;
  }
  for (int i = 0; i < nd->n_in; i++) {
    w[i] = t >= 0 ? pl->nodes[nd->in[i]].ymd
                  : shape_md(n, shape_of(d, nd->in[i]), dnnl_abcd);
    TRY(edge_in(d, pl, id, i, &w[i]));
  }
  dnnl_memory_desc_t y_md =
      shape_md(n, os, t >= 0 ? gm__dnn_act_tags[t] : dnnl_abcd);
  if (!gm__dnn_grow((void **)&pl->pds, &pl->n_pds, &pl->cap_pds,
                    sizeof(*pl->pds))) {
    rc = gm__dnn_nomem(d, sizeof(*pl->pds));
    goto fail;
  }
  CK(dnnl_concat_primitive_desc_create(&pd, &y_md, nd->n_in, 1, w, d->attr,
                                       d->eng),
     "concat creation");
  pl->pds[pl->n_pds++] = pd;
  pn->ymd = qmd(pd, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd, "concat creation"));
  for (int i = 0; i < nd->n_in; i++)
    arg(&pn->f, DNNL_ARG_MULTIPLE_SRC + i, pn->e[i].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  int off = 0;
  for (int i = 0; i < nd->n_in; i++) {
    const struct gm_nn_shape s = shape_of(d, nd->in[i]);
    if (wants_grad(d, pl, id, i)) {
      dnnl_dims_t dims = {n, s.c, s.h, s.w}, offs = {0, off, 0, 0};
      dnnl_memory_desc_t sub;
      dnnl_memory_t subm;
      CK(dnnl_memory_desc_init_submemory(&sub, &pn->ymd, dims, offs),
         "sub-memory descriptor");
      TRY(gm__dnn_mem_blk(d, pl, &sub, pn->dyb, &subm));
      TRY(edge_grad(d, pl, id, i, &sub, subm, pn->dyb, 1.0f));
    }
    off += s.c;
  }
fail:
  return rc;
}

/* Channels [c0, c1): a reorder from a sub-memory of the input (in its own
 * layout when the block divides c0 and c1 - c0, else in nchw). Backward:
 * into the same sub-memory of the input's gradient (zeroed first by the
 * first contribution), or of a zeroed nchw staging copy. */
static enum gm_status build_slice(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int src = nd->in[0], n = pl->n;
  const struct gm_nn_shape is = shape_of(d, src), os = nd->shape;
  dnnl_memory_desc_t p_md = pl->nodes[src].ymd, w, sub;
  int t = gm__dnn_find_tag(&p_md);
  if (t >= 0 &&
      (nd->c0 % gm__dnn_act_blocks[t] || os.c % gm__dnn_act_blocks[t]))
    t = -1;
  w = t >= 0 ? p_md : shape_md(n, is, dnnl_abcd);
  dnnl_dims_t dims = {n, os.c, os.h, os.w}, offs = {0, nd->c0, 0, 0};
  dnnl_memory_t subm;
  TRY(edge_in(d, pl, id, 0, &w));
  pn->ymd = shape_md(n, os, t >= 0 ? gm__dnn_act_tags[t] : dnnl_abcd);
  TRY(node_out(d, pl, id));
  CK(dnnl_memory_desc_init_submemory(&sub, &w, dims, offs),
     "sub-memory descriptor");
  TRY(gm__dnn_mem_blk(d, pl, &sub, pn->e[0].xb, &subm));
  TRY(gm__dnn_reorder(d, pl, id, &pn->f, &sub, subm, &pn->ymd, pn->y, false,
                      1.0f));
  if (!wants_grad(d, pl, id, 0))
    goto fail;
  struct pedge *e = &pn->e[0];
  const bool first = d->first_id[src] == id && d->first_slot[src] == 0;
  if (md_eq(&w, &p_md)) {
    /* straight into the input's gradient */
    e->grad = true;
    e->first = first;
    dnnl_memory_t dsub;
    TRY(gm__dnn_mem_blk(d, pl, &sub, pl->nodes[src].dyb, &dsub));
    TRY(gm__dnn_reorder(d, pl, id, &pn->bd, &pn->ymd, pn->dy, &sub, dsub, true,
                        1.0f));
    if (first) {
      pn->zero_blk = pl->nodes[src].dyb;
      pn->zero_bytes = md_bytes(&p_md);
    }
  } else {
    dnnl_memory_t gm, gsub;
    int gb;
    TRY(gm__dnn_mem_new(d, pl, &w, &gb, &gm));
    TRY(gm__dnn_mem_blk(d, pl, &sub, gb, &gsub));
    TRY(gm__dnn_reorder(d, pl, id, &pn->bd, &pn->ymd, pn->dy, &sub, gsub, false,
                        1.0f));
    pn->zero_blk = gb;
    pn->zero_bytes = md_bytes(&w);
    TRY(edge_grad(d, pl, id, 0, &w, gm, gb, 1.0f));
  }
fail:
  return rc;
}

/* PyTorch's shuffle in g groups is oneDNN's with group size C / g. */
static enum gm_status build_shuffle(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  const int src = nd->in[0];
  const dnnl_dim_t group_size = nd->shape.c / nd->groups;
  dnnl_memory_desc_t x_md = pl->nodes[src].ymd;
  dnnl_shuffle_desc_t desc;
  dnnl_primitive_desc_t pd_f, pd_b;
  TRY(edge_in(d, pl, id, 0, &x_md));
  CK(dnnl_shuffle_forward_desc_init(&desc, dnnl_forward_training, &x_md, 1,
                                    group_size),
     "shuffle forward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_f, &desc, NULL,
                      "shuffle forward creation"));
  pn->ymd = qmd(pd_f, dnnl_query_dst_md);
  TRY(node_out(d, pl, id));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->f, pd_f, "shuffle forward creation"));
  arg(&pn->f, DNNL_ARG_SRC, pn->e[0].x);
  arg(&pn->f, DNNL_ARG_DST, pn->y);
  if (!wants_grad(d, pl, id, 0))
    goto fail;
  CK(dnnl_shuffle_backward_desc_init(&desc, &pn->ymd, 1, group_size),
     "shuffle backward descriptor");
  TRY(gm__dnn_make_pd(d, pl, id, &pd_b, &desc, pd_f,
                      "shuffle backward creation"));
  dnnl_memory_desc_t dd_md = qmd(pd_b, dnnl_query_diff_dst_md);
  dnnl_memory_desc_t g = qmd(pd_b, dnnl_query_diff_src_md);
  dnnl_memory_t dy;
  TRY(dy_as(d, pl, id, &dd_md, &pn->dyd_re, &dy));
  TRY(edge_grad(d, pl, id, 0, &g, NULL, -1, 1.0f));
  TRY(gm__dnn_make_prim(d, pl, id, &pn->bd, pd_b, "shuffle backward creation"));
  arg(&pn->bd, DNNL_ARG_DIFF_DST, dy);
  arg(&pn->bd, DNNL_ARG_DIFF_SRC, pn->e[0].gm);
fail:
  return rc;
}

static enum gm_status build_node(struct dnn *d, struct plan *pl, int id) {
  const struct gm__nn_node *nd = node(d, id);
  pl->nodes[id].bwd = d->live[id] && d->anc[id];
  switch (nd->op) {
  case GM_NN_CONV2D:
  case GM_NN_LINEAR:
    return build_conv_linear(d, pl, id);
  case GM_NN_BATCHNORM:
    return build_bn(d, pl, id);
  case GM_NN_RELU:
  case GM_NN_SIGMOID:
  case GM_NN_SWISH:
    return build_eltwise(d, pl, id);
  case GM_NN_MAXPOOL:
  case GM_NN_AVGPOOL:
  case GM_NN_GLOBAL_AVGPOOL:
    return build_pool(d, pl, id);
  case GM_NN_FLATTEN:
    return build_flatten(d, pl, id);
  case GM_NN_DROPOUT:
  case GM_NN_DROP_PATH:
    return build_drop(d, pl, id);
  case GM_NN_ADD:
    return build_add(d, pl, id);
  case GM_NN_MUL_CHANNEL:
    return build_mul_channel(d, pl, id);
  case GM_NN_CONCAT:
    return build_concat(d, pl, id);
  case GM_NN_SLICE:
    return build_slice(d, pl, id);
  case GM_NN_SHUFFLE:
    return build_shuffle(d, pl, id);
  case GM_NN_INPUT:
    break;
  }
  gm__fmt(d->err, sizeof(d->err), "onednn: node %d: unknown operator %d", id,
          (int)nd->op);
  return GM_ERR_NOT_SUPPORTED;
}

/* ---- placing a plan's tensors -------------------------------------------- */

/* Steps of a pass: the forward of node id is step id, the output copy step
 * n_nodes, the backward of node id step 2 n_nodes - id. */
static int out_step(const struct dnn *d) { return d->n_nodes; }
static int bwd_step(const struct dnn *d, int id) { return 2 * d->n_nodes - id; }
static int n_steps(const struct dnn *d) { return 2 * d->n_nodes; }

int gm__dnn_mref_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t)((const struct mref *)a)->m;
  uintptr_t y = (uintptr_t)((const struct mref *)b)->m;
  return (x > y) - (x < y);
}

struct lifetimes {
  struct plan *pl;
  const struct mref *refs;
  size_t n_refs;
  int mode;
};

static void touch(struct lifetimes *lt, int blk, int step) {
  if (blk < 0)
    return;
  struct blk *t = &lt->pl->blks[blk];
  if (step < t->t0[lt->mode])
    t->t0[lt->mode] = step;
  if (step > t->t1[lt->mode])
    t->t1[lt->mode] = step;
}

/* Every tensor that primitive p reads or writes is in use at step. */
static void touch_prim(struct lifetimes *lt, const struct prim *p, int step) {
  if (!p->p)
    return;
  for (int i = 0; i < p->nargs; i++) {
    struct mref key = {p->args[i].memory, -1};
    const struct mref *r =
        bsearch(&key, lt->refs, lt->n_refs, sizeof(key), gm__dnn_mref_cmp);
    if (r)
      touch(lt, r->blk, step);
  }
}

/* The steps of one pass in placement mode that use each tensor: what the
 * running code below executes, primitive by primitive, plus the loops on
 * host pointers (input, output, dropout, zeroing). */
static void pass_lifetimes(struct dnn *d, struct lifetimes *lt) {
  struct plan *pl = lt->pl;
  const int out = gm_nn_output(d->net), m = lt->mode;
  touch(lt, pl->nodes[0].yb, 0);
  for (int id = 1; id < d->n_nodes; id++) {
    const struct gm__nn_node *nd = node(d, id);
    const struct pnode *pn = &pl->nodes[id];
    const bool drop = nd->op == GM_NN_DROPOUT || nd->op == GM_NN_DROP_PATH;
    for (int s = 0; s < nd->n_in; s++)
      touch_prim(lt, &pn->e[s].re, id);
    touch_prim(lt, &pn->wf_re, id);
    touch_prim(lt, m == EVAL && nd->op == GM_NN_BATCHNORM ? &pn->fe : &pn->f,
               id);
    if (drop) {
      touch(lt, pn->e[0].xb, id);
      touch(lt, pn->yb, id);
      if (m == TRAIN)
        touch(lt, pn->wsb, id);
    }
    if (m != TRAIN || !pn->bwd)
      continue;
    const int t = bwd_step(d, id);
    const struct prim *bp[] = {&pn->dyd_re, &pn->dyw_re, &pn->xw_re, &pn->wf_re,
                               &pn->wb_re,  &pn->bd,     &pn->bw,    &pn->dw_re,
                               &pn->aux1,   &pn->aux2};
    for (size_t k = 0; k < sizeof(bp) / sizeof(bp[0]); k++)
      touch_prim(lt, bp[k], t);
    for (int s = 0; s < nd->n_in; s++)
      if (pn->e[s].grad)
        touch_prim(lt, &pn->e[s].acc, t);
    touch(lt, pn->zero_blk, t);
    if (drop && pn->e[0].grad) {
      touch(lt, pn->dyb, t);
      touch(lt, pn->wsb, t);
      touch(lt, pn->e[0].gb, t);
    }
  }
  touch_prim(lt, &pl->out_re, out_step(d));
  if (pl->out_plain)
    touch(lt, pl->nodes[out].yb, out_step(d));
  if (m == TRAIN) {
    touch_prim(lt, &pl->dout_re, bwd_step(d, out));
    if (pl->out_plain)
      touch(lt, pl->nodes[out].dyb, bwd_step(d, out));
  }
}

size_t gm__dnn_round_up(size_t bytes) {
  return (bytes + ALIGN - 1) / ALIGN * ALIGN;
}

struct order {
  size_t bytes;
  int t0, blk;
};

static int order_cmp(const void *a, const void *b) {
  const struct order *x = a, *y = b;
  if (x->bytes != y->bytes)
    return x->bytes > y->bytes ? -1 : 1;
  if (x->t0 != y->t0)
    return x->t0 < y->t0 ? -1 : 1;
  return (x->blk > y->blk) - (x->blk < y->blk);
}

/* Offsets for placement mode: largest tensor first, each at the lowest
 * offset where it meets no placed tensor alive at the same time. Returns
 * the bytes needed, or SIZE_MAX without memory. */
size_t gm__dnn_place(struct plan *pl, int mode) {
  const size_t nb = pl->n_blks;
  struct order *ord = calloc(nb ? nb : 1, sizeof(*ord));
  int *placed = calloc(nb ? nb : 1, sizeof(*placed)); /* by offset */
  size_t n_ord = 0, n_placed = 0, top = 0;
  if (!ord || !placed) {
    free(ord);
    free(placed);
    return SIZE_MAX;
  }
  for (size_t i = 0; i < nb; i++) {
    struct blk *t = &pl->blks[i];
    t->off[mode] = 0;
    if (t->t0[mode] <= t->t1[mode])
      ord[n_ord++] =
          (struct order){gm__dnn_round_up(t->bytes), t->t0[mode], (int)i};
  }
  qsort(ord, n_ord, sizeof(*ord), order_cmp);
  for (size_t k = 0; k < n_ord; k++) {
    struct blk *t = &pl->blks[ord[k].blk];
    size_t off = 0, at = n_placed;
    for (size_t j = 0; j < n_placed; j++) {
      const struct blk *p = &pl->blks[placed[j]];
      if (p->t1[mode] < t->t0[mode] || p->t0[mode] > t->t1[mode])
        continue;
      if (off + ord[k].bytes <= p->off[mode])
        break;
      size_t end = p->off[mode] + gm__dnn_round_up(p->bytes);
      if (end > off)
        off = end;
    }
    t->off[mode] = off;
    while (at > 0 && pl->blks[placed[at - 1]].off[mode] > off) {
      placed[at] = placed[at - 1];
      at--;
    }
    placed[at] = ord[k].blk;
    n_placed++;
    if (off + ord[k].bytes > top)
      top = off + ord[k].bytes;
  }
  free(ord);
  free(placed);
  return top;
}

/* Per step, the padded tensors whose first use it is. */
bool gm__dnn_zero_lists(const struct dnn *d, struct plan *pl, int mode) {
  const int ns = n_steps(d);
  int *idx = calloc((size_t)ns + 2, sizeof(int));
  int *list = calloc(pl->n_blks ? pl->n_blks : 1, sizeof(int));
  if (!idx || !list) {
    free(idx);
    free(list);
    return false;
  }
  for (size_t i = 0; i < pl->n_blks; i++) {
    const struct blk *t = &pl->blks[i];
    if (t->padded && t->t0[mode] <= t->t1[mode])
      idx[t->t0[mode] + 1]++;
  }
  for (int s = 0; s <= ns; s++)
    idx[s + 1] += idx[s];
  int *fill = calloc((size_t)ns + 1, sizeof(int));
  if (!fill) {
    free(idx);
    free(list);
    return false;
  }
  for (size_t i = 0; i < pl->n_blks; i++) {
    const struct blk *t = &pl->blks[i];
    if (t->padded && t->t0[mode] <= t->t1[mode]) {
      const int s = t->t0[mode];
      list[idx[s] + fill[s]++] = (int)i;
    }
  }
  free(fill);
  pl->zidx[mode] = idx;
  pl->zlist[mode] = list;
  return true;
}

/* Lifetimes, offsets and zeroing lists of both placements, and an arena
 * large enough for them. */
static enum gm_status plan_place(struct dnn *d, struct plan *pl) {
  struct mref *refs = calloc(pl->n_mems ? pl->n_mems : 1, sizeof(*refs));
  if (!refs)
    return gm__dnn_nomem(d, pl->n_mems * sizeof(*refs));
  for (size_t i = 0; i < pl->n_mems; i++)
    refs[i] = (struct mref){pl->mems[i].m, pl->mems[i].blk};
  qsort(refs, pl->n_mems, sizeof(*refs), gm__dnn_mref_cmp);
  struct lifetimes lt = {pl, refs, pl->n_mems, TRAIN};
  for (int m = 0; m < N_MODES; m++) {
    lt.mode = m;
    pass_lifetimes(d, &lt);
  }
  free(refs);
  pl->naive = 0;
  for (size_t i = 0; i < pl->n_blks; i++)
    pl->naive += gm__dnn_round_up(pl->blks[i].bytes);
  size_t need_bytes = 1;
  for (int m = 0; m < N_MODES; m++) {
    pl->size[m] = gm__dnn_place(pl, m);
    if (pl->size[m] == SIZE_MAX || !gm__dnn_zero_lists(d, pl, m))
      return gm__dnn_nomem(d, pl->n_blks * sizeof(struct order));
    if (pl->size[m] > need_bytes)
      need_bytes = pl->size[m];
  }
  if (!gm__dnn_need(d, &d->arena, need_bytes))
    return gm__dnn_nomem(d, need_bytes);
  return GM_OK;
}

/* The element offset of index pos in blocked layout md. */
static dnnl_dim_t blocked_off(const dnnl_memory_desc_t *md,
                              const dnnl_dims_t index) {
  const dnnl_blocking_desc_t *bk = &md->format_desc.blocking;
  dnnl_dims_t pos;
  for (int k = 0; k < md->ndims; k++)
    pos[k] = index[k];
  dnnl_dim_t off = md->offset0, stride = 1;
  for (int b = bk->inner_nblks - 1; b >= 0; b--) {
    const int k = bk->inner_idxs[b];
    off += pos[k] % bk->inner_blks[b] * stride;
    pos[k] /= bk->inner_blks[b];
    stride *= bk->inner_blks[b];
  }
  for (int k = 0; k < md->ndims; k++)
    off += pos[k] * bk->strides[k];
  return off;
}

/* Zeroes the padding of a blocked layout at p: the elements whose index
 * lies beyond dims within padded_dims. Where the padding of a dimension
 * lies within its innermost block (nChw16c), each run is one memset. */
static void zero_padding(const dnnl_memory_desc_t *md, char *p) {
  const dnnl_blocking_desc_t *bk = &md->format_desc.blocking;
  const int nd = md->ndims;
  const size_t es = dnnl_data_type_size(md->data_type);
  for (int pd = 0; pd < nd; pd++) {
    const dnnl_dim_t lo = md->dims[pd], run = md->padded_dims[pd] - lo;
    if (run == 0)
      continue;
    int blocks = 0;
    for (int b = 0; b < bk->inner_nblks; b++)
      blocks += bk->inner_idxs[b] == pd;
    const dnnl_dim_t inner =
        bk->inner_nblks > 0 ? bk->inner_blks[bk->inner_nblks - 1] : 1;
    const bool contiguous = blocks == 1 && bk->inner_nblks > 0 &&
                            bk->inner_idxs[bk->inner_nblks - 1] == pd &&
                            lo / inner == (lo + run - 1) / inner;
    /* indices before pd within dims (the regions of earlier dimensions
     * cover the rest), after pd anything; pd itself runs inside */
    dnnl_dims_t i, hi;
    for (int k = 0; k < nd; k++) {
      i[k] = 0;
      hi[k] = k < pd ? md->dims[k] : md->padded_dims[k];
    }
    hi[pd] = 1;
    for (;;) {
      i[pd] = lo;
      if (contiguous) {
        memset(p + (size_t)blocked_off(md, i) * es, 0, (size_t)run * es);
      } else {
        for (; i[pd] < lo + run; i[pd]++)
          memset(p + (size_t)blocked_off(md, i) * es, 0, es);
      }
      i[pd] = 0;
      int k = nd - 1;
      while (k >= 0 && ++i[k] >= hi[k]) {
        i[k] = 0;
        k--;
      }
      if (k < 0)
        break;
    }
  }
}

/* Before the work of step t: the padding of the tensors first used then. */
void gm__dnn_zero_step(const struct dnn *d, const struct plan *pl, int t) {
  const int m = pl->mode;
  for (int k = pl->zidx[m][t]; k < pl->zidx[m][t + 1]; k++) {
    const int b = pl->zlist[m][k];
    zero_padding(&pl->blks[b].md, blk_ptr(d, pl, b));
  }
}

/* ---- plans ----------------------------------------------------------------
 */

static enum gm_status plan_create(struct dnn *d, int n, struct plan **out) {
  const int id = gm_nn_output(d->net);
  enum gm_status rc = GM_OK;
  struct plan *pl = calloc(1, sizeof(*pl));
  if (!pl || !(pl->nodes = calloc((size_t)d->n_nodes, sizeof(*pl->nodes)))) {
    rc = gm__dnn_nomem(d, sizeof(*pl));
    goto fail;
  }
  pl->n = n;
  pl->id = ++d->next_plan;
  pl->mode = -1;
  for (int i = 0; i < d->n_nodes; i++) {
    struct pnode *pn = &pl->nodes[i];
    pn->yb = pn->dyb = pn->wsb = pn->zero_blk = -1;
    for (int s = 0; s < GM_NN_MAX_INPUTS; s++)
      pn->e[s].xb = pn->e[s].gb = -1;
  }
  struct pnode *in = &pl->nodes[0];
  in->ymd = shape_md(n, shape_of(d, 0), dnnl_abcd);
  TRY(gm__dnn_mem_new(d, pl, &in->ymd, &in->yb, &in->y));
  for (int i = 1; i < d->n_nodes; i++)
    TRY(build_node(d, pl, i));
  /* the host boundary at the output */
  struct pnode *po = &pl->nodes[id];
  dnnl_memory_desc_t host = shape_md(n, shape_of(d, id), dnnl_abcd);
  pl->out_plain = md_eq(&host, &po->ymd);
  if (!pl->out_plain) {
    dnnl_memory_t hg;
    TRY(gm__dnn_mem_at(d, pl, &host, DNNL_MEMORY_NONE, &pl->out_host));
    TRY(gm__dnn_reorder(d, pl, id, &pl->out_re, &po->ymd, po->y, &host,
                        pl->out_host, false, 1.0f));
    if (po->dy) {
      TRY(gm__dnn_mem_on(d, pl, &host, &d->hostg, &hg));
      TRY(gm__dnn_reorder(d, pl, id, &pl->dout_re, &host, hg, &po->ymd, po->dy,
                          false, 1.0f));
    }
  }
  TRY(plan_place(d, pl));
  *out = pl;
  return GM_OK;
fail:
  gm__dnn_plan_free(pl);
  return rc;
}

/* The plan for n samples: cached, or built (evicting the least recently
 * used), and bound to the current buffers in placement mode. */
static enum gm_status plan_get(struct dnn *d, int n, int mode,
                               struct plan **out) {
  enum gm_status rc = GM_OK;
  struct plan *pl = NULL;
  int slot = -1;
  for (int i = 0; i < MAX_PLANS; i++)
    if (d->plans[i] && d->plans[i]->n == n)
      pl = d->plans[i];
  if (!pl) {
    for (int i = 0; i < MAX_PLANS && slot < 0; i++)
      if (!d->plans[i])
        slot = i;
    if (slot < 0) {
      slot = 0;
      for (int i = 1; i < MAX_PLANS; i++)
        if (d->plans[i]->used < d->plans[slot]->used)
          slot = i;
      if (d->cur == d->plans[slot])
        d->cur = NULL;
      gm__dnn_plan_free(d->plans[slot]);
      d->plans[slot] = NULL;
    }
    TRY(plan_create(d, n, &pl));
    d->plans[slot] = pl;
  }
  if (pl->gen != d->gen || pl->mode != mode)
    TRY(gm__dnn_plan_bind(d, pl, mode));
  pl->used = ++d->tick;
  *out = pl;
fail:
  return rc;
}

/* ---- running ------------------------------------------------------------ */

static uint64_t node_seed(uint64_t seed, int id) {
  return seed + (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
}

static void weights_fresh(struct dnn *d, struct plan *pl, const struct prim *p,
                          uint64_t *plan_id, uint64_t *ver, dnnl_status_t *st) {
  if (!p->p || (*plan_id == pl->id && *ver == d->pver))
    return;
  *st = run(d, p);
  *plan_id = pl->id;
  *ver = d->pver;
}

static enum gm_status forward_node(struct dnn *d, struct plan *pl, int id,
                                   bool training, uint64_t seed) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  struct nbufs *b = &d->nb[id];
  const int n = pl->n;
  dnnl_status_t st = dnnl_success;
  for (int s = 0; s < nd->n_in; s++)
    RUN(&pn->e[s].re, "input reorder");
  switch (nd->op) {
  case GM_NN_CONV2D:
  case GM_NN_LINEAR:
    weights_fresh(d, pl, &pn->wf_re, &b->wf_plan, &b->wf_ver, &st);
    CK(st, "weight reorder");
    RUN(&pn->f, "forward");
    break;
  case GM_NN_BATCHNORM: {
    if (!training) {
      RUN(&pn->fe, "forward");
      break;
    }
    RUN(&pn->f, "forward");
    CK(dnnl_stream_wait(d->strm), "stream wait");
    const struct gm_nn_shape s = nd->shape;
    const double m = (double)n * (double)s.h * (double)s.w;
    const float *mean = b->mean.p, *var = b->var.p;
    float *rm = d->stats + d->soff[nd->running_mean];
    float *rv = d->stats + d->soff[nd->running_var];
    for (int c = 0; c < s.c; c++) {
      rm[c] = (float)((1.0 - BN_MOMENTUM) * rm[c] + BN_MOMENTUM * mean[c]);
      rv[c] = (float)((1.0 - BN_MOMENTUM) * rv[c] +
                      BN_MOMENTUM * ((double)var[c] * m / (m - 1.0)));
    }
    d->batches[nd->batches]++;
    d->sver++;
    break;
  }
  case GM_NN_DROPOUT:
  case GM_NN_DROP_PATH: {
    CK(dnnl_stream_wait(d->strm), "stream wait");
    const size_t per = numel(nd->shape), len = (size_t)n * per;
    const float *x = (const float *)blk_ptr(d, pl, pn->e[0].xb);
    float *y = (float *)blk_ptr(d, pl, pn->yb);
    float *mask = (float *)blk_ptr(d, pl, pn->wsb);
    if (!training) {
      memcpy(y, x, len * sizeof(float));
      break;
    }
    struct gm__rng rng;
    gm__rng_seed(&rng, node_seed(seed, id));
    if (nd->op == GM_NN_DROPOUT) {
      const double keep = 1.0 - nd->p;
      const float scale = (float)(1.0 / keep);
      for (size_t i = 0; i < len; i++) {
        mask[i] = gm__rng_uniform(&rng) < keep ? scale : 0.0f;
        y[i] = x[i] * mask[i];
      }
    } else {
      const float keep = (float)(1.0 - nd->p);
      for (int s = 0; s < n; s++) {
        mask[s] = gm__rng_uniform(&rng) < 1.0 - nd->p ? 1.0f : 0.0f;
        for (size_t i = 0; i < per; i++)
          y[(size_t)s * per + i] = x[(size_t)s * per + i] / keep * mask[s];
      }
    }
    break;
  }
  default:
    RUN(&pn->f, "forward");
    break;
  }
fail:
  return rc;
}

static enum gm_status backward_node(struct dnn *d, struct plan *pl, int id) {
  enum gm_status rc = GM_OK;
  const struct gm__nn_node *nd = node(d, id);
  struct pnode *pn = &pl->nodes[id];
  struct nbufs *b = &d->nb[id];
  dnnl_status_t st = dnnl_success;
  if (pn->zero_blk >= 0)
    memset(blk_ptr(d, pl, pn->zero_blk), 0, pn->zero_bytes);
  switch (nd->op) {
  case GM_NN_CONV2D:
  case GM_NN_LINEAR:
    RUN(&pn->dyd_re, "gradient reorder");
    RUN(&pn->dyw_re, "gradient reorder");
    RUN(&pn->xw_re, "input reorder");
    if (pn->bd.p) {
      /* the forward layout may be shared with backward data */
      weights_fresh(d, pl, &pn->wf_re, &b->wf_plan, &b->wf_ver, &st);
      CK(st, "weight reorder");
      RUN(&pn->wb_re, "weight reorder");
      RUN(&pn->bd, "backward data");
    }
    RUN(&pn->bw, "backward weights");
    RUN(&pn->dw_re, "weight gradient reorder");
    break;
  case GM_NN_DROPOUT:
  case GM_NN_DROP_PATH: {
    if (!pn->e[0].grad)
      break;
    CK(dnnl_stream_wait(d->strm), "stream wait");
    const size_t per = numel(nd->shape), len = (size_t)pl->n * per;
    const float *dy = (const float *)blk_ptr(d, pl, pn->dyb);
    const float *mask = (const float *)blk_ptr(d, pl, pn->wsb);
    float *dx = (float *)blk_ptr(d, pl, pn->e[0].gb);
    if (nd->op == GM_NN_DROPOUT) {
      for (size_t i = 0; i < len; i++)
        dx[i] = dy[i] * mask[i];
    } else {
      const float keep = (float)(1.0 - nd->p);
      for (size_t i = 0; i < len; i++)
        dx[i] = dy[i] * mask[i / per] / keep;
    }
    break;
  }
  default:
    RUN(&pn->dyd_re, "gradient reorder");
    RUN(&pn->bd, "backward");
    RUN(&pn->aux1, "backward");
    RUN(&pn->aux2, "backward");
    break;
  }
  for (int s = 0; s < nd->n_in; s++)
    if (pn->e[s].grad)
      RUN(&pn->e[s].acc, "gradient accumulation");
fail:
  return rc;
}

/* ---- the interface --------------------------------------------------------
 */

static int threads_enter(const struct dnn *d) {
  int saved = omp_get_max_threads();
  if (d->threads > 0)
    omp_set_num_threads(d->threads);
  return saved;
}

static void threads_leave(const struct dnn *d, int saved) {
  if (d->threads > 0)
    omp_set_num_threads(saved);
}

static void dnn_destroy(void *self) {
  struct dnn *d = self;
  if (!d)
    return;
  for (int i = 0; i < MAX_PLANS; i++)
    gm__dnn_plan_free(d->plans[i]);
  gm__dnn_infer_destroy(d);
  if (d->nb)
    for (int i = 0; i < d->n_nodes; i++) {
      gm__dnn_buf_free(&d->nb[i].mean);
      gm__dnn_buf_free(&d->nb[i].var);
      gm__dnn_buf_free(&d->nb[i].wf);
    }
  gm__dnn_buf_free(&d->arena);
  gm__dnn_buf_free(&d->scratch);
  gm__dnn_buf_free(&d->hostg);
  if (d->attr)
    dnnl_primitive_attr_destroy(d->attr);
  if (d->strm)
    dnnl_stream_destroy(d->strm);
  if (d->eng)
    dnnl_engine_destroy(d->eng);
  free(d->nb);
  free(d->anc);
  free(d->live);
  free(d->first_id);
  free(d->first_slot);
  free(d->poff);
  free(d->soff);
  free(d->p);
  free(d->g);
  free(d->mom);
  free(d->stats);
  free(d->batches);
  free(d);
}

/* Which nodes matter for the backward pass, and the first contribution to
 * each gradient (nodes visited from the output down, inputs in order). */
static void analyse(struct dnn *d) {
  const int out = gm_nn_output(d->net);
  for (int id = 1; id < d->n_nodes; id++) {
    const struct gm__nn_node *nd = node(d, id);
    d->anc[id] = nd->weight >= 0;
    for (int s = 0; s < nd->n_in; s++)
      d->anc[id] = d->anc[id] || d->anc[nd->in[s]];
  }
  d->live[out] = true;
  for (int id = out; id > 0; id--)
    if (d->live[id])
      for (int s = 0; s < node(d, id)->n_in; s++)
        d->live[node(d, id)->in[s]] = true;
  for (int id = 0; id < d->n_nodes; id++)
    d->first_id[id] = d->first_slot[id] = -1;
  for (int id = out; id > 0; id--) {
    const struct gm__nn_node *nd = node(d, id);
    if (!d->live[id] || !d->anc[id])
      continue;
    for (int s = 0; s < nd->n_in; s++) {
      const int src = nd->in[s];
      if (src != 0 && d->anc[src] && d->first_id[src] < 0) {
        d->first_id[src] = id;
        d->first_slot[src] = s;
      }
    }
  }
}

static void *zalloc(size_t count, size_t size) {
  return calloc(count ? count : 1, size);
}

/* The name of oneDNN's instruction set isa. */
static const char *isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
  case dnnl_cpu_isa_sse41:
    return "sse41";
  case dnnl_cpu_isa_avx:
    return "avx";
  case dnnl_cpu_isa_avx2:
    return "avx2";
  case dnnl_cpu_isa_avx2_vnni:
    return "avx2_vnni";
  case dnnl_cpu_isa_avx512_core:
    return "avx512_core";
  case dnnl_cpu_isa_avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl_cpu_isa_avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl_cpu_isa_avx512_core_amx:
    return "avx512_core_amx";
  default:
    return "other";
  }
}

/* Appends to out, at *len, each convolution and inner product
 * implementation of plan pl with its count: "jit:avx512_core x6, ...". */
static void kernels_of(const struct plan *pl, char *out, size_t size,
                       size_t *len) {
  enum { MAX_IMPL = 12 };
  const char *impl[MAX_IMPL];
  int count[MAX_IMPL], n = 0, other = 0;
  for (size_t i = 0; i < pl->n_prims; i++) {
    const_dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
    const char *name = NULL;
    if (dnnl_primitive_get_primitive_desc(pl->prims[i], &pd) != dnnl_success ||
        dnnl_primitive_desc_query(pd, dnnl_query_primitive_kind, 0, &kind) !=
            dnnl_success ||
        (kind != dnnl_convolution && kind != dnnl_inner_product) ||
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) !=
            dnnl_success ||
        !name)
      continue;
    int k = 0;
    while (k < n && strcmp(impl[k], name) != 0)
      k++;
    if (k == n && n == MAX_IMPL) {
      other++;
      continue;
    }
    if (k == n) {
      impl[n] = name;
      count[n++] = 0;
    }
    count[k]++;
  }
  for (int k = 0; k < n; k++)
    gm__appendf(out, size, len, "%s%s x%d", k ? ", " : "", impl[k], count[k]);
  if (other)
    gm__appendf(out, size, len, "%sothers x%d", n ? ", " : "", other);
  if (!n && !other)
    gm__appendf(out, size, len, "none");
}

/* d->kernels: the library, the instruction set it dispatches and the
 * kernels of the training and inference plans for max_batch. */
static void describe_kernels(struct dnn *d, const struct plan *train,
                             const struct plan *infer) {
  const dnnl_version_t *v = dnnl_version();
  size_t len = 0;
  char *out = d->kernels;
  const size_t size = sizeof(d->kernels);
  out[0] = '\0';
  gm__appendf(out, size, &len,
              "oneDNN %d.%d.%d, ISA %s; %s convolution and inner product "
              "kernels at batch %d: training graph ",
              v->major, v->minor, v->patch,
              isa_name(dnnl_get_effective_cpu_isa()),
              d->cdt == dnnl_bf16 ? "bf16" : "fp32", d->max_batch);
  kernels_of(train, out, size, &len);
  gm__appendf(out, size, &len, "; inference graph ");
  kernels_of(infer, out, size, &len);
}

static enum gm_status dnn_create(const struct gm_nn_net *net,
                                 const struct gm_nn_engine_config *cfg,
                                 void **self, char *err, size_t err_size) {
  const int id = -1;
  enum gm_status rc = GM_OK;
  int saved = 0;
  bool entered = false;
  struct dnn *d = calloc(1, sizeof(*d));
  if (!d) {
    if (err)
      gm__fmt(err, err_size, "onednn: out of memory");
    return GM_ERR_NO_MEMORY;
  }
  d->net = net;
  d->n_nodes = gm_nn_node_count(net);
  d->max_batch = cfg->max_batch;
  d->threads = cfg->threads;
  d->cdt = cfg->precision == GM_NN_BF16 ? dnnl_bf16 : dnnl_f32;
  d->n_tensors = gm_nn_param_count(net);
  d->n_buffers = gm_nn_buffer_count(net);
  d->n_pf = gm__nn_param_floats(net);
  d->n_sf = gm__nn_stat_floats(net);
  d->poff = zalloc(d->n_tensors, sizeof(*d->poff));
  d->soff = zalloc(d->n_buffers, sizeof(*d->soff));
  d->p = zalloc(d->n_pf, sizeof(float));
  d->g = zalloc(d->n_pf, sizeof(float));
  d->mom = zalloc(d->n_pf, sizeof(float));
  d->stats = zalloc(d->n_sf, sizeof(float));
  d->batches = zalloc(d->n_buffers, sizeof(int64_t));
  d->nb = zalloc((size_t)d->n_nodes, sizeof(*d->nb));
  d->anc = zalloc((size_t)d->n_nodes, sizeof(bool));
  d->live = zalloc((size_t)d->n_nodes, sizeof(bool));
  d->first_id = zalloc((size_t)d->n_nodes, sizeof(int));
  d->first_slot = zalloc((size_t)d->n_nodes, sizeof(int));
  if (!d->poff || !d->soff || !d->p || !d->g || !d->mom || !d->stats ||
      !d->batches || !d->nb || !d->anc || !d->live || !d->first_id ||
      !d->first_slot) {
    rc = gm__dnn_nomem(d, d->n_pf * 3 * sizeof(float));
    goto fail;
  }
  for (size_t t = 0; t < d->n_tensors; t++)
    d->poff[t] = gm__nn_param_offset(net, t);
  for (size_t b = 0; b < d->n_buffers; b++)
    d->soff[b] = gm__nn_stat_offset(net, b);
  analyse(d);
  saved = threads_enter(d);
  entered = true;
  CK(dnnl_engine_create(&d->eng, dnnl_cpu, 0), "engine creation");
  CK(dnnl_stream_create(&d->strm, d->eng, dnnl_stream_default_flags),
     "stream creation");
  CK(dnnl_primitive_attr_create(&d->attr), "attribute creation");
  CK(dnnl_primitive_attr_set_scratchpad_mode(d->attr,
                                             dnnl_scratchpad_mode_user),
     "scratchpad mode");
  struct plan *pl, *ipl;
  TRY(plan_get(d, d->max_batch, EVAL, &pl));
  TRY(gm__dnn_infer_create(d));
  TRY(gm__dnn_infer_plan(d, d->max_batch, &ipl));
  describe_kernels(d, pl, ipl);
  d->planned = (struct gm__nn_memory_plan){.training = pl->size[TRAIN],
                                           .evaluation = ipl->size[EVAL],
                                           .naive = pl->naive};
  threads_leave(d, saved);
  *self = d;
  return GM_OK;
fail:
  if (entered)
    threads_leave(d, saved);
  if (err)
    gm__fmt(err, err_size, "%s", d->err);
  dnn_destroy(d);
  return rc;
}

static enum gm_status dnn_set_params(void *self, const float *src) {
  struct dnn *d = self;
  if (d->n_pf)
    memcpy(d->p, src, d->n_pf * sizeof(float));
  d->pver++;
  return GM_OK;
}

static enum gm_status dnn_get_params(void *self, float *dst) {
  struct dnn *d = self;
  if (d->n_pf)
    memcpy(dst, d->p, d->n_pf * sizeof(float));
  return GM_OK;
}

static enum gm_status dnn_get_grads(void *self, float *dst) {
  struct dnn *d = self;
  if (d->n_pf)
    memcpy(dst, d->g, d->n_pf * sizeof(float));
  return GM_OK;
}

static enum gm_status dnn_set_stats(void *self, const float *src) {
  struct dnn *d = self;
  if (d->n_sf)
    memcpy(d->stats, src, d->n_sf * sizeof(float));
  d->sver++;
  return GM_OK;
}

static enum gm_status dnn_get_stats(void *self, float *dst) {
  struct dnn *d = self;
  if (d->n_sf)
    memcpy(dst, d->stats, d->n_sf * sizeof(float));
  return GM_OK;
}

static enum gm_status dnn_reset_counters(void *self) {
  struct dnn *d = self;
  for (size_t b = 0; b < d->n_buffers; b++)
    d->batches[b] = 0;
  return GM_OK;
}

static enum gm_status dnn_get_state(void *self, float *momentum, int64_t *steps,
                                    int64_t *counters) {
  struct dnn *d = self;
  if (momentum && d->n_pf)
    memcpy(momentum, d->mom, d->n_pf * sizeof(float));
  if (steps)
    *steps = d->steps;
  size_t k = 0;
  for (size_t b = 0; counters && b < d->n_buffers; b++)
    if (d->soff[b] < 0)
      counters[k++] = d->batches[b];
  return GM_OK;
}

static enum gm_status dnn_set_state(void *self, const float *momentum,
                                    int64_t steps, const int64_t *counters) {
  struct dnn *d = self;
  if (steps < 0) {
    gm__fmt(d->err, sizeof(d->err), "onednn: %lld optimiser steps",
            (long long)steps);
    return GM_ERR_INVALID_ARG;
  }
  if (momentum && d->n_pf)
    memcpy(d->mom, momentum, d->n_pf * sizeof(float));
  d->steps = steps;
  d->has_mom = steps > 0;
  size_t k = 0;
  for (size_t b = 0; counters && b < d->n_buffers; b++)
    if (d->soff[b] < 0)
      d->batches[b] = counters[k++];
  return GM_OK;
}

static enum gm_status dnn_forward(void *self, const float *x, int n,
                                  bool training, uint64_t seed, float *out) {
  struct dnn *d = self;
  const int out_id = gm_nn_output(d->net);
  int id = -1;
  enum gm_status rc = GM_OK;
  struct plan *pl = NULL;
  d->err[0] = '\0';
  d->last = NO_FORWARD;
  int saved = threads_enter(d);
  if (n <= 0 || n > d->max_batch) {
    gm__fmt(d->err, sizeof(d->err),
            "forward of %d samples: the engine was made for 1 to %d", n,
            d->max_batch);
    rc = GM_ERR_INVALID_ARG;
    goto fail;
  }
  for (id = 1; training && id < d->n_nodes; id++) {
    const struct gm__nn_node *nd = node(d, id);
    if (nd->op == GM_NN_BATCHNORM &&
        (size_t)n * (size_t)nd->shape.h * (size_t)nd->shape.w == 1) {
      gm__fmt(d->err, sizeof(d->err),
              "batch norm '%s': training needs more than one value per "
              "channel (%d sample(s) of %dx%d)",
              gm__nn_param(d->net, (size_t)nd->weight)->name, n, nd->shape.h,
              nd->shape.w);
      rc = GM_ERR_INVALID_ARG;
      goto fail;
    }
  }
  if (!training && !d->unfused_eval) {
    id = -1;
    TRY(gm__dnn_infer_forward(d, x, n, out));
    d->last = EVAL_FORWARD;
    goto fail;
  }
  TRY(plan_get(d, n, training ? TRAIN : EVAL, &pl));
  d->cur = pl;
  gm__dnn_zero_step(d, pl, 0);
  memcpy(blk_ptr(d, pl, pl->nodes[0].yb), x,
         (size_t)n * numel(shape_of(d, 0)) * sizeof(float));
  for (id = 1; id < d->n_nodes; id++) {
    gm__dnn_zero_step(d, pl, id);
    TRY(forward_node(d, pl, id, training, seed));
  }
  id = out_id;
  gm__dnn_zero_step(d, pl, out_step(d));
  if (pl->out_plain) {
    CK(dnnl_stream_wait(d->strm), "stream wait");
    memcpy(out, blk_ptr(d, pl, pl->nodes[out_id].yb),
           (size_t)n * numel(shape_of(d, out_id)) * sizeof(float));
  } else {
    CK(dnnl_memory_set_data_handle(pl->out_host, out), "output binding");
    RUN(&pl->out_re, "output reorder");
    CK(dnnl_stream_wait(d->strm), "stream wait");
  }
  d->last = training ? TRAINING_FORWARD : EVAL_FORWARD;
fail:
  threads_leave(d, saved);
  return rc;
}

static enum gm_status dnn_backward(void *self, const float *dout) {
  struct dnn *d = self;
  const int out_id = gm_nn_output(d->net);
  int id = out_id;
  enum gm_status rc = GM_OK;
  struct plan *pl = d->cur;
  d->err[0] = '\0';
  if (d->last != TRAINING_FORWARD || !pl) {
    gm__fmt(d->err, sizeof(d->err),
            "backward needs a training forward first "
            "(the last forward was %s)",
            d->last == EVAL_FORWARD ? "in evaluation mode" : "not run");
    return GM_ERR_STATE;
  }
  int saved = threads_enter(d);
  const size_t bytes =
      (size_t)pl->n * numel(shape_of(d, out_id)) * sizeof(float);
  for (id = out_id; id > 0; id--) {
    gm__dnn_zero_step(d, pl, bwd_step(d, id));
    if (id == out_id && pl->nodes[out_id].dy) {
      if (pl->out_plain) {
        memcpy(blk_ptr(d, pl, pl->nodes[out_id].dyb), dout, bytes);
      } else {
        memcpy(d->hostg.p, dout, bytes);
        RUN(&pl->dout_re, "output gradient reorder");
      }
    }
    if (pl->nodes[id].bwd)
      TRY(backward_node(d, pl, id));
  }
  id = out_id;
  CK(dnnl_stream_wait(d->strm), "stream wait");
  d->have_grads = true;
fail:
  threads_leave(d, saved);
  return rc;
}

/* PyTorch's SGD in float32, exactly as ref.c computes it. steps counts
 * the steps that set the momentum buffers (so steps > 0: they hold
 * something), as get_state reports it. */
static enum gm_status dnn_sgd_step(void *self, const struct gm_nn_sgd *opt) {
  struct dnn *d = self;
  d->err[0] = '\0';
  if (!d->have_grads) {
    gm__fmt(d->err, sizeof(d->err), "sgd step before any backward pass");
    return GM_ERR_STATE;
  }
  const float lr = (float)opt->lr, momentum = (float)opt->momentum;
  const float wd = (float)opt->weight_decay;
  const bool use_mom = opt->momentum != 0, use_wd = opt->weight_decay != 0;
  for (size_t t = 0; t < d->n_tensors; t++) {
    const struct gm__nn_tensor_desc *desc = gm__nn_param(d->net, t);
    if (desc->node < 0)
      continue;
    float *p = param(d, (int)t), *g = grad(d, (int)t);
    float *buf = d->mom + d->poff[t];
    for (size_t i = 0; i < desc->numel; i++) {
      float v = g[i];
      if (use_wd)
        v = v + wd * p[i];
      if (use_mom) {
        if (d->has_mom) {
          buf[i] = momentum * buf[i];
          buf[i] = buf[i] + v;
        } else {
          buf[i] = v;
        }
        v = buf[i];
      }
      p[i] = p[i] - lr * v;
    }
  }
  if (use_mom) {
    d->has_mom = true;
    d->steps++;
  }
  d->pver++;
  return GM_OK;
}

void gm__nn_onednn_unfused_eval(void *self, bool unfused) {
  struct dnn *d = self;
  d->unfused_eval = unfused;
}

static enum gm_status dnn_sync(void *self) {
  struct dnn *d = self;
  return dnnl_stream_wait(d->strm) == dnnl_success ? GM_OK
                                                   : GM_ERR_NOT_SUPPORTED;
}

static enum gm_status dnn_memory(const void *self,
                                 struct gm__nn_memory_plan *out) {
  const struct dnn *d = self;
  *out = d->planned;
  return GM_OK;
}

/* bf16 runs on oneDNN's AVX-512 kernels (avx512_core emulates the bf16
 * dot product, avx512_core_bf16 and AMX compute it); below AVX-512 oneDNN
 * 2.x has only its reference kernels for bf16, hundreds of times slower,
 * so the backend does not offer it there. ONEDNN_MAX_CPU_ISA lowers what
 * oneDNN sees. */
static uint32_t dnn_precisions_here(void) {
  const unsigned isa = (unsigned)dnnl_get_effective_cpu_isa(),
                 avx512 = (unsigned)dnnl_cpu_isa_avx512_core;
  uint32_t set = GM__NN_PRECISION_BIT(GM_NN_FP32);
  if ((isa & avx512) == avx512)
    set |= GM__NN_PRECISION_BIT(GM_NN_BF16);
  return set;
}

static const char *dnn_kernels(const void *self) {
  const struct dnn *d = self;
  return d->kernels;
}

static const char *dnn_error(const void *self) {
  const struct dnn *d = self;
  return d->err;
}

const struct gm__nn_backend_ops gm__nn_backend_onednn = {
    .name = "onednn",
    .ops = GM__NN_OPS_ALL,
    .threaded = true,
    .precisions = GM__NN_PRECISIONS_ALL,
    .precisions_here = dnn_precisions_here,
    .create = dnn_create,
    .destroy = dnn_destroy,
    .set_params = dnn_set_params,
    .get_params = dnn_get_params,
    .get_grads = dnn_get_grads,
    .set_stats = dnn_set_stats,
    .get_stats = dnn_get_stats,
    .reset_counters = dnn_reset_counters,
    .get_state = dnn_get_state,
    .set_state = dnn_set_state,
    .forward = dnn_forward,
    .backward = dnn_backward,
    .sgd_step = dnn_sgd_step,
    .sync = dnn_sync,
    .memory = dnn_memory,
    .error = dnn_error,
    .kernels = dnn_kernels,
};
