/* graph.h: the network graph as backends see it (internal). Nodes are in
 * topological order by construction: a node's inputs always have smaller
 * ids. */
#ifndef GM_NN_GRAPH_H
#define GM_NN_GRAPH_H

#include "greenml/nn.h"

#define GM_NN_MAX_INPUTS 16

struct gm__nn_node {
  enum gm_nn_op op;
  int in[GM_NN_MAX_INPUTS];
  int n_in;
  struct gm_nn_shape shape; /* output, per sample */
  /* operator parameters */
  int k, stride, pad, groups; /* conv, pools */
  bool bias;                  /* conv, linear */
  double p;                   /* dropout, drop path */
  int c0, c1;                 /* slice */
  /* indices into the net's parameter and buffer lists, -1 when none */
  int weight, bias_param; /* conv, linear; batch norm: gamma, beta */
  int running_mean, running_var, batches;
};

/* What a parameter is, for initialisation. */
enum gm__nn_param_kind {
  GM__NN_WEIGHT,   /* conv or linear weight: U(+-1/sqrt(fan_in)) */
  GM__NN_BIAS,     /* conv or linear bias: U(+-1/sqrt(fan_in)) */
  GM__NN_BN_GAMMA, /* 1 */
  GM__NN_BN_BETA,  /* 0 */
  GM__NN_STAT      /* buffers */
};

struct gm__nn_tensor_desc {
  enum gm__nn_param_kind kind;
  size_t fan_in; /* of the layer's weight (weights and biases) */
  char name[128];
  int ndim;
  int dims[4];
  size_t numel;
  size_t bytes;
  int node; /* the node that uses it; -1 for declared, unused layers */
};

const struct gm__nn_node *gm__nn_node(const struct gm_nn_net *net, int id);
const struct gm__nn_tensor_desc *gm__nn_param(const struct gm_nn_net *net,
                                              size_t i);
const struct gm__nn_tensor_desc *gm__nn_buffer(const struct gm_nn_net *net,
                                               size_t i);

#endif
