/* onednn.h: what the oneDNN backend's files share (internal): the
 * backend's state, a plan's registries (memories, primitives, tensors in
 * the arena) and their helpers, defined in onednn.c; and the inference
 * graph, onednn_infer.c. See onednn.c for the design of the training graph
 * and onednn_infer.c for the inference graph. */
#ifndef GM_NN_BACKENDS_ONEDNN_H
#define GM_NN_BACKENDS_ONEDNN_H

#include <dnnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/util.h"
#include "nn/backend.h"

struct iplan;
struct infer;

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1
#define ALIGN 64
#define MAX_PLANS 4
#define MAX_ARGS (GM_NN_MAX_INPUTS + 4)

enum last_forward { NO_FORWARD, TRAINING_FORWARD, EVAL_FORWARD };

/* The two placements of a plan's tensors. */
enum mode { TRAIN, EVAL, N_MODES };

/* A growable, zero-initialised host buffer, 64-byte aligned (calloc'ed:
 * large ones are mapped pages, zeroed lazily by the kernel). */
struct buf {
  void *raw, *p;
  size_t cap; /* bytes from p */
};

/* A tensor of a plan, in the arena. */
struct blk {
  dnnl_memory_desc_t md; /* the layout it was made for */
  size_t bytes;
  bool padded;                  /* md pads: zeroed before the first use */
  int t0[N_MODES], t1[N_MODES]; /* first and last step; t0 > t1: unused */
  size_t off[N_MODES];          /* bytes from the arena's start */
};

/* A primitive with its arguments bound (p NULL: nothing to run). */
struct prim {
  dnnl_primitive_t p;
  int nargs;
  dnnl_exec_arg_t args[MAX_ARGS];
};

/* A node reading one input (forward), and giving that input its share of
 * the gradient (backward). Tensors are indices into the plan's, -1: none. */
struct pedge {
  dnnl_memory_desc_t want; /* the layout the node reads */
  int xb;                  /* the input in that layout */
  dnnl_memory_t x;
  struct prim re;         /* producer layout -> want, into a staging copy */
  bool grad;              /* the input needs a gradient */
  bool first;             /* the first contribution to it: overwrite */
  dnnl_memory_desc_t gmd; /* the layout the node writes the gradient in */
  int gb;                 /* where: the input's gradient itself or staging */
  dnnl_memory_t gm;
  struct prim acc; /* gm -> the input's gradient (NULL: written in place) */
};

/* A node of a plan. */
struct pnode {
  dnnl_memory_desc_t ymd; /* output and output gradient */
  dnnl_memory_t y, dy;
  int yb, dyb, wsb; /* tensors: output, its gradient, workspace or mask */
  struct pedge e[GM_NN_MAX_INPUTS];
  struct prim f, fe;      /* forward (training), forward (evaluation) */
  struct prim bd, bw;     /* backward data, backward weights */
  struct prim wf_re;      /* host weights -> forward layout */
  struct prim wb_re;      /* host weights -> backward-data layout */
  struct prim dw_re;      /* weight gradient -> host layout */
  struct prim xw_re;      /* input -> backward-weights layout */
  struct prim dyd_re;     /* output gradient -> backward-data layout */
  struct prim dyw_re;     /* output gradient -> backward-weights layout */
  struct prim aux1, aux2; /* channel multiply: the scale's gradient */
  bool bwd;               /* runs in the backward pass */
  int zero_blk;           /* zeroed before the node's backward pass */
  size_t zero_bytes;
};

/* A memory object and its storage: a persistent buffer, an arena tensor,
 * or neither (fixed storage). */
struct binding {
  dnnl_memory_t m;
  struct buf *b;
  int blk;
};

/* Everything built for one batch size. */
struct plan {
  int n;
  uint64_t id, used, gen;
  int mode; /* the placement the memories point into; -1: none yet */
  struct pnode *nodes;
  struct binding *mems;
  size_t n_mems, cap_mems;
  dnnl_primitive_t *prims;
  size_t n_prims, cap_prims;
  dnnl_primitive_desc_t *pds;
  size_t n_pds, cap_pds;
  struct blk *blks;
  size_t n_blks, cap_blks;
  size_t size[N_MODES]; /* arena bytes of each placement */
  size_t naive;         /* bytes with one buffer per tensor */
  /* per placement and step t, the padded tensors first used then:
   * zlist[zidx[t]] to zlist[zidx[t + 1] - 1] */
  int *zidx[N_MODES], *zlist[N_MODES];
  bool out_plain; /* the output is already NCHW */
  dnnl_memory_t out_host;
  struct prim out_re, dout_re;
  struct iplan *inf; /* an inference plan's own part (onednn_infer.c) */
};

/* Persistent buffers of one node, shared by all plans. */
struct nbufs {
  struct buf mean, var, wf;
  /* what the forward weight copy holds: the plan (training or inference)
   * and the version (parameters, or the inference graph's folded ones) */
  uint64_t wf_plan, wf_ver;
};

struct dnn {
  const struct gm_nn_net *net;
  int n_nodes, max_batch, threads;
  size_t n_tensors, n_buffers, n_pf, n_sf;
  size_t *poff;
  long *soff;
  float *p, *g, *mom, *stats;
  int64_t *batches;           /* per buffer */
  bool *anc;                  /* per node: it or an ancestor has parameters */
  bool *live;                 /* per node: the output depends on it */
  int *first_id, *first_slot; /* per node: first backward contribution */
  struct nbufs *nb;
  struct buf arena, scratch, hostg;
  struct gm__nn_memory_plan planned; /* of the plan for max_batch */
  /* gen: buffers moved; pver, sver: parameters, running statistics
   * changed */
  uint64_t gen, pver, sver, next_plan, tick;
  struct plan *plans[MAX_PLANS];
  struct infer *inf; /* the inference graph (onednn_infer.c) */
  bool unfused_eval; /* evaluation on the training graph (tests) */
  struct plan *cur;
  /* the data type of the operands of convolutions and linear layers:
   * dnnl_f32, or dnnl_bf16 in bf16 precision (outputs, gradients written
   * and everything else stay dnnl_f32) */
  dnnl_data_type_t cdt;
  enum last_forward last;
  bool have_grads, has_mom;
  int64_t steps;
  dnnl_engine_t eng;
  dnnl_stream_t strm;
  dnnl_primitive_attr_t attr;
  char err[256];
  char kernels[768]; /* dnn_kernels: made at create */
};

/* ---- small helpers ------------------------------------------------------ */

static inline const struct gm__nn_node *node(const struct dnn *d, int id) {
  return gm__nn_node(d->net, id);
}

static inline struct gm_nn_shape shape_of(const struct dnn *d, int id) {
  return node(d, id)->shape;
}

static inline size_t numel(struct gm_nn_shape s) {
  return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

static inline float *param(struct dnn *d, int t) { return d->p + d->poff[t]; }
static inline float *grad(struct dnn *d, int t) { return d->g + d->poff[t]; }

enum gm_status gm__dnn_fail(struct dnn *d, dnnl_status_t st, int id,
                            const char *what);
enum gm_status gm__dnn_nomem(struct dnn *d, size_t bytes);

#define CK(call, what)                                                         \
  do {                                                                         \
    dnnl_status_t st_ = (call);                                                \
    if (st_ != dnnl_success) {                                                 \
      rc = gm__dnn_fail(d, st_, id, what);                                     \
      goto fail;                                                               \
    }                                                                          \
  } while (0)

#define TRY(call)                                                              \
  do {                                                                         \
    if ((rc = (call)) != GM_OK)                                                \
      goto fail;                                                               \
  } while (0)

static inline dnnl_memory_desc_t md4(int n, int c, int h, int w,
                                     dnnl_format_tag_t tag) {
  dnnl_memory_desc_t md;
  dnnl_dims_t dims = {n, c, h, w};
  if (dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, tag) != dnnl_success)
    memset(&md, 0, sizeof(md));
  return md;
}

static inline dnnl_memory_desc_t mdn(int nd, const dnnl_dim_t *d,
                                     dnnl_format_tag_t tag) {
  dnnl_memory_desc_t md;
  dnnl_dims_t dims = {0};
  for (int i = 0; i < nd; i++)
    dims[i] = d[i];
  if (dnnl_memory_desc_init_by_tag(&md, nd, dims, dnnl_f32, tag) !=
      dnnl_success)
    memset(&md, 0, sizeof(md));
  return md;
}

static inline dnnl_memory_desc_t md1(int c) {
  dnnl_dim_t dims[1] = {c};
  return mdn(1, dims, dnnl_a);
}

static inline dnnl_memory_desc_t shape_md(int n, struct gm_nn_shape s,
                                          dnnl_format_tag_t tag) {
  return md4(n, s.c, s.h, s.w, tag);
}

static inline bool md_eq(const dnnl_memory_desc_t *a,
                         const dnnl_memory_desc_t *b) {
  return dnnl_memory_desc_equal(a, b) != 0;
}

/* md with data type dt (strides are in elements, so the layout holds). */
static inline dnnl_memory_desc_t md_dt(dnnl_memory_desc_t md,
                                       dnnl_data_type_t dt) {
  md.data_type = dt;
  return md;
}

static inline size_t md_bytes(const dnnl_memory_desc_t *md) {
  return dnnl_memory_desc_get_size(md);
}

static inline dnnl_memory_desc_t qmd(const_dnnl_primitive_desc_t pd,
                                     dnnl_query_t what) {
  return *dnnl_primitive_desc_query_md(pd, what, 0);
}

/* Activation layouts recognised where a layout must be reproduced for
 * another shape (channel multiply, concat, slice). */
#define N_ACT_TAGS 5
extern const dnnl_format_tag_t gm__dnn_act_tags[N_ACT_TAGS];
extern const int gm__dnn_act_blocks[N_ACT_TAGS];
/* The index in gm__dnn_act_tags of md's layout, or -1. */
int gm__dnn_find_tag(const dnnl_memory_desc_t *md);

/* ---- buffers and a plan's registries (onednn.c) -------------------------- */

/* b holds at least bytes (grown, zeroed, moved: d->gen changes). */
bool gm__dnn_need(struct dnn *d, struct buf *b, size_t bytes);
void gm__dnn_buf_free(struct buf *b);
/* Room for one more element in a growable array. */
bool gm__dnn_grow(void **arr, size_t *n, size_t *cap, size_t elem);
/* Memory on buffer b (grown to fit md), re-pointed whenever b moves. */
enum gm_status gm__dnn_mem_on(struct dnn *d, struct plan *pl,
                              const dnnl_memory_desc_t *md, struct buf *b,
                              dnnl_memory_t *out);
/* Memory on fixed storage (or NULL: a handle set at each use). */
enum gm_status gm__dnn_mem_at(struct dnn *d, struct plan *pl,
                              const dnnl_memory_desc_t *md, void *ptr,
                              dnnl_memory_t *out);
/* A new tensor of the plan for layout md (placed after the build). */
enum gm_status gm__dnn_blk_new(struct dnn *d, struct plan *pl,
                               const dnnl_memory_desc_t *md, int *out);
/* Memory md on tensor blk (its layout or a view of it). */
enum gm_status gm__dnn_mem_blk(struct dnn *d, struct plan *pl,
                               const dnnl_memory_desc_t *md, int blk,
                               dnnl_memory_t *out);
/* A new tensor for md and its memory. */
enum gm_status gm__dnn_mem_new(struct dnn *d, struct plan *pl,
                               const dnnl_memory_desc_t *md, int *blk,
                               dnnl_memory_t *out);
/* A primitive descriptor of desc with the backend's attributes (user
 * scratchpad), registered with the plan. */
enum gm_status gm__dnn_make_pd(struct dnn *d, struct plan *pl, int id,
                               dnnl_primitive_desc_t *pd, const void *desc,
                               const_dnnl_primitive_desc_t hint,
                               const char *what);
/* The primitive of pd, with its scratchpad on the shared buffer. */
enum gm_status gm__dnn_make_prim(struct dnn *d, struct plan *pl, int id,
                                 struct prim *pr,
                                 const_dnnl_primitive_desc_t pd,
                                 const char *what);
/* A reorder from -> to; accumulate adds to what "to" holds (sum post-op);
 * scale multiplies the source. */
enum gm_status gm__dnn_reorder(struct dnn *d, struct plan *pl, int id,
                               struct prim *pr,
                               const dnnl_memory_desc_t *from_md,
                               dnnl_memory_t from,
                               const dnnl_memory_desc_t *to_md,
                               dnnl_memory_t to, bool accumulate, float scale);
void gm__dnn_plan_free(struct plan *pl);
/* Points every memory of the plan at its storage, arena tensors at their
 * place in placement mode. */
enum gm_status gm__dnn_plan_bind(struct dnn *d, struct plan *pl, int mode);

static inline char *blk_ptr(const struct dnn *d, const struct plan *pl,
                            int blk) {
  return (char *)d->arena.p + pl->blks[blk].off[pl->mode];
}

static inline void arg(struct prim *pr, int which, dnnl_memory_t m) {
  pr->args[pr->nargs++] = (dnnl_exec_arg_t){which, m};
}

static inline dnnl_status_t run(struct dnn *d, const struct prim *p) {
  if (!p->p)
    return dnnl_success;
  return dnnl_primitive_execute(p->p, d->strm, p->nargs, p->args);
}

#define RUN(prim, what) CK(run(d, prim), what)

/* ---- placing a plan's tensors (onednn.c) --------------------------------- */

/* A memory of the plan and its tensor, sorted by memory for look-ups. */
struct mref {
  dnnl_memory_t m;
  int blk;
};
int gm__dnn_mref_cmp(const void *a, const void *b);
/* Offsets for placement mode from the tensors' lifetimes (t0, t1): the
 * bytes needed, or SIZE_MAX without memory. */
size_t gm__dnn_place(struct plan *pl, int mode);
/* Per step, the padded tensors first used then. */
bool gm__dnn_zero_lists(const struct dnn *d, struct plan *pl, int mode);
/* Before the work of step t: the padding of the tensors first used then. */
void gm__dnn_zero_step(const struct dnn *d, const struct plan *pl, int t);
size_t gm__dnn_round_up(size_t bytes);

/* ---- the inference graph (onednn_infer.c) -------------------------------- */

/* The per-net state of the inference graph (folded weights), made at
 * create. */
enum gm_status gm__dnn_infer_create(struct dnn *d);
void gm__dnn_infer_destroy(struct dnn *d); /* accepts d->inf NULL */
void gm__dnn_infer_plan_free(struct iplan *ip);
/* The inference plan for n samples (cached like the training plans). */
enum gm_status gm__dnn_infer_plan(struct dnn *d, int n, struct plan **out);
/* An evaluation forward of n samples on the inference graph: folds the
 * batch norms again first if the parameters or statistics changed. */
enum gm_status gm__dnn_infer_forward(struct dnn *d, const float *x, int n,
                                     float *out);

/* Tests: evaluation forwards on the training graph (unfused true) or on
 * the inference graph (false, the default). self is the backend's. */
void gm__nn_onednn_unfused_eval(void *self, bool unfused);

#endif
