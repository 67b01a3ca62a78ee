/* cmd_models.c: `greenml models`: the zoo's model characteristics
 * (parameters, bytes, MACs), computed from each model's graph. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "greenml/json.h"
#include "cli.h"
#include "greenml/nn.h"

static const char usage_text[] =
    "usage: greenml models [--json] [--model NAME] [--params]\n"
    "\n"
    "Prints the characteristics of every model of the zoo (or of NAME):\n"
    "total and trainable parameters, parameter, buffer and model size in\n"
    "bytes, multiply-accumulates (MACs) per 3x32x32 sample and MACs per\n"
    "parameter. All are counted from the model's graph, not measured.\n"
    "\n"
    "  --json               a JSON array of objects on stdout\n"
    "  --model NAME         one model (case-insensitive)\n"
    "  --params             also list every parameter tensor with its shape\n"
    "\n"
    "Conventions: buffers are batch norm running mean and variance (float32)\n"
    "and one int64 batch counter per batch norm; MACs count convolutions as\n"
    "output elements x in_channels/groups x kh x kw and linear layers as\n"
    "in_features x out_features.\n";

static void json_model(struct gm_json *j, const char *name,
                       const struct gm_nn_net *net,
                       const struct gm_nn_stats *st, bool params) {
  gm_json_begin_object(j);
  gm_json_key(j, "name");
  gm_json_string(j, name);
  gm_json_key(j, "params");
  gm_json_int(j, (int64_t)st->params);
  gm_json_key(j, "trainable_params");
  gm_json_int(j, (int64_t)st->trainable_params);
  gm_json_key(j, "param_bytes");
  gm_json_int(j, (int64_t)st->param_bytes);
  gm_json_key(j, "buffer_bytes");
  gm_json_int(j, (int64_t)st->buffer_bytes);
  gm_json_key(j, "size_bytes");
  gm_json_int(j, (int64_t)st->size_bytes);
  gm_json_key(j, "macs");
  gm_json_int(j, (int64_t)st->macs);
  gm_json_key(j, "macs_per_param");
  gm_json_number(j, st->macs_per_param);
  if (params) {
    gm_json_key(j, "parameters");
    gm_json_begin_array(j);
    for (size_t i = 0; i < gm_nn_param_count(net); i++) {
      int ndim, dims[4];
      const char *pn = gm_nn_param_name(net, i, &ndim, dims);
      gm_json_begin_array(j);
      gm_json_string(j, pn);
      gm_json_begin_array(j);
      for (int d = 0; d < ndim; d++)
        gm_json_int(j, dims[d]);
      gm_json_end_array(j);
      gm_json_end_array(j);
    }
    gm_json_end_array(j);
  }
  gm_json_end_object(j);
}

int cmd_models(int argc, char **argv) {
  bool json = false, params = false;
  const char *only = NULL;
  static const struct option longopts[] = {{"json", 0, 0, 'j'},
                                           {"model", 1, 0, 'm'},
                                           {"params", 0, 0, 'p'},
                                           {"help", 0, 0, 'h'},
                                           {0}};
  int opt;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'j':
      json = true;
      break;
    case 'm':
      only = optarg;
      break;
    case 'p':
      params = true;
      break;
    case 'h':
      fputs(usage_text, stdout);
      return 0;
    default:
      fputs(usage_text, stderr);
      return GM_EXIT_USAGE;
    }
  }
  if (optind < argc) {
    gm_cli_error("models", "unexpected argument '%s'", argv[optind]);
    return GM_EXIT_USAGE;
  }
  bool found = false;
  for (size_t i = 0; only && i < gm_nn_zoo_count(); i++)
    found = found || strcasecmp(only, gm_nn_zoo_name(i)) == 0;
  if (only && !found) {
    gm_cli_error("models",
                 "no model '%s' in the zoo; 'greenml models' lists them", only);
    return GM_EXIT_USAGE;
  }
  struct gm_json j;
  gm_json_init(&j);
  if (json)
    gm_json_begin_array(&j);
  else
    printf("%-16s %12s %12s %12s %12s %12s %14s %10s\n", "model", "params",
           "trainable", "param B", "buffer B", "size B", "MACs", "MACs/param");
  int ec = 0;
  for (size_t i = 0; i < gm_nn_zoo_count(); i++) {
    const char *name = gm_nn_zoo_name(i);
    if (only && strcasecmp(only, name) != 0)
      continue;
    struct gm_nn_net *net = NULL;
    struct gm_nn_stats st;
    enum gm_status rc = gm_nn_zoo_build(name, &net);
    if (rc == GM_OK)
      rc = gm_nn_net_stats(net, &st);
    if (rc != GM_OK) {
      gm_cli_error("models", "cannot build %s: %s", name,
                   net ? gm_nn_net_error(net) : gm_status_str(rc));
      gm_nn_net_destroy(net);
      ec = GM_EXIT_SOFTWARE;
      continue;
    }
    if (json) {
      json_model(&j, name, net, &st, params);
    } else {
      printf("%-16s %12llu %12llu %12llu %12llu %12llu %14llu %10.1f\n", name,
             (unsigned long long)st.params,
             (unsigned long long)st.trainable_params,
             (unsigned long long)st.param_bytes,
             (unsigned long long)st.buffer_bytes,
             (unsigned long long)st.size_bytes, (unsigned long long)st.macs,
             st.macs_per_param);
      for (size_t p = 0; params && p < gm_nn_param_count(net); p++) {
        int ndim, dims[4];
        const char *pn = gm_nn_param_name(net, p, &ndim, dims);
        printf("    %-48s", pn);
        for (int d = 0; d < ndim; d++)
          printf("%s%d", d ? "x" : " ", dims[d]);
        printf("\n");
      }
    }
    gm_nn_net_destroy(net);
  }
  if (json) {
    gm_json_end_array(&j);
    printf("%s\n", j.buf ? j.buf : "[]");
  } else {
    printf("\nCounted from the graphs (not measured): parameters float32; "
           "MACs per 3x32x32 sample.\n");
  }
  gm_json_release(&j);
  return ec;
}
