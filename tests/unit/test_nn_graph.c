/* test_nn_graph.c: the network graph: shape inference for every layer kind,
 * parameter names from scopes, sticky errors, and the model
 * characteristics counted by hand on small nets. */
#include <string.h>

#include "greenml/nn.h"
#include "helpers.h"

static struct gm_nn_net *net_3x32(void) {
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_net_create(3, 32, 32, &net), GM_OK);
  return net;
}

static void assert_shape(const struct gm_nn_net *net, int id, int c, int h,
                         int w) {
  assert_true(id >= 0);
  struct gm_nn_shape s = gm_nn_node_shape(net, id);
  assert_int_equal(s.c, c);
  assert_int_equal(s.h, h);
  assert_int_equal(s.w, w);
}

static void shapes(void **state) {
  (void)state;
  struct gm_nn_net *net = net_3x32();
  int x = gm_nn_input(net);
  assert_shape(net, x, 3, 32, 32);
  int c = gm_nn_conv2d(net, x, "c", 16, 3, 2, 1, 1, false);
  assert_shape(net, c, 16, 16, 16);
  int dw = gm_nn_conv2d(net, c, "dw", 16, 5, 1, 2, 16, true);
  assert_shape(net, dw, 16, 16, 16);
  int mp = gm_nn_maxpool(net, dw, 3, 2, 1);
  assert_shape(net, mp, 16, 8, 8);
  int ap = gm_nn_avgpool(net, mp, 2, 2, 0);
  assert_shape(net, ap, 16, 4, 4);
  int sl = gm_nn_slice(net, ap, 4, 12);
  assert_shape(net, sl, 8, 4, 4);
  int parts[3] = {ap, sl, ap};
  int cat = gm_nn_concat(net, parts, 3);
  assert_shape(net, cat, 40, 4, 4);
  int sh = gm_nn_shuffle(net, cat, 2);
  assert_shape(net, sh, 40, 4, 4);
  int g = gm_nn_global_avgpool(net, sh);
  assert_shape(net, g, 40, 1, 1);
  int m = gm_nn_mul_channel(net, sh, gm_nn_sigmoid(net, g));
  assert_shape(net, m, 40, 4, 4);
  int f = gm_nn_flatten(net, m);
  assert_shape(net, f, 640, 1, 1);
  int l = gm_nn_linear(net, gm_nn_dropout(net, f, 0.5), "fc", 10, true);
  assert_shape(net, l, 10, 1, 1);
  assert_int_equal(gm_nn_output(net), l);
  assert_int_equal(gm_nn_node_op(net, l), GM_NN_LINEAR);
  assert_int_equal(gm_nn_net_status(net), GM_OK);
  gm_nn_net_destroy(net);
}

static void names_and_counts(void **state) {
  (void)state;
  struct gm_nn_net *net = net_3x32();
  gm_nn_scope_push(net, "layer%d", 1);
  gm_nn_scope_push(net, "%d", 0);
  int x = gm_nn_conv2d(net, gm_nn_input(net), "conv1", 8, 3, 1, 1, 1, false);
  x = gm_nn_batchnorm(net, x, "bn1");
  gm_nn_scope_pop(net);
  gm_nn_scope_pop(net);
  x = gm_nn_flatten(net, gm_nn_global_avgpool(net, x));
  gm_nn_linear(net, x, "linear", 10, true);
  assert_int_equal(gm_nn_net_status(net), GM_OK);
  const char *expect[] = {"layer1.0.conv1.weight", "layer1.0.bn1.weight",
                          "layer1.0.bn1.bias", "linear.weight", "linear.bias"};
  assert_int_equal(gm_nn_param_count(net), 5);
  for (size_t i = 0; i < 5; i++)
    assert_string_equal(gm_nn_param_name(net, i, NULL, NULL), expect[i]);
  int ndim, dims[4];
  gm_nn_param_name(net, 0, &ndim, dims);
  assert_int_equal(ndim, 4);
  assert_int_equal(dims[0], 8);
  assert_int_equal(dims[1], 3);
  assert_int_equal(dims[3], 3);
  assert_int_equal(gm_nn_buffer_count(net), 3);
  size_t bytes;
  assert_string_equal(gm_nn_buffer_name(net, 2, &bytes),
                      "layer1.0.bn1.num_batches_tracked");
  assert_int_equal(bytes, 8);
  struct gm_nn_stats st;
  assert_int_equal(gm_nn_net_stats(net, &st), GM_OK);
  /* conv 8*3*3*3 = 216, bn 16, linear 80 + 10 */
  assert_int_equal(st.params, 216 + 16 + 90);
  assert_int_equal(st.trainable_params, st.params);
  assert_int_equal(st.param_bytes, 4 * st.params);
  assert_int_equal(st.buffer_bytes, 8 * 4 * 2 + 8);
  assert_int_equal(st.size_bytes, st.param_bytes + st.buffer_bytes);
  /* conv: 8*32*32 outputs x 3 x 3 x 3; linear 8 x 10 */
  assert_int_equal(st.macs, 8 * 32 * 32 * 27 + 80);
  assert_double_equal(st.macs_per_param, (double)st.macs / (double)st.params,
                      1e-12);
  gm_nn_net_destroy(net);
}

static void grouped_conv_macs(void **state) {
  (void)state;
  struct gm_nn_net *net = net_3x32();
  int x = gm_nn_conv2d(net, 0, "a", 32, 1, 1, 0, 1, false);
  gm_nn_conv2d(net, x, "dw", 32, 3, 2, 1, 32, false);
  struct gm_nn_stats st;
  assert_int_equal(gm_nn_net_stats(net, &st), GM_OK);
  assert_int_equal(st.params, 32 * 3 + 32 * 9);
  assert_int_equal(st.macs, 32 * 32 * 32 * 3 + 32 * 16 * 16 * 1 * 9);
  gm_nn_net_destroy(net);
}

static void declared_layers_count_but_do_not_run(void **state) {
  (void)state;
  struct gm_nn_net *net = net_3x32();
  gm_nn_scope_push(net, "blk");
  assert_int_equal(gm_nn_declare_conv2d(net, "conv1", 3, 6, 1, 1, false), 0);
  assert_int_equal(gm_nn_declare_batchnorm(net, "bn1", 6), 0);
  gm_nn_scope_pop(net);
  gm_nn_conv2d(net, 0, "c", 4, 1, 1, 0, 1, false);
  assert_int_equal(gm_nn_node_count(net), 2); /* input + c */
  assert_string_equal(gm_nn_param_name(net, 0, NULL, NULL), "blk.conv1.weight");
  struct gm_nn_stats st;
  assert_int_equal(gm_nn_net_stats(net, &st), GM_OK);
  assert_int_equal(st.params, 18 + 12 + 12);
  assert_int_equal(st.buffer_bytes, 6 * 8 + 8);
  assert_int_equal(st.macs, 4 * 32 * 32 * 3); /* only the conv that runs */
  assert_int_equal(gm_nn_declare_conv2d(net, "bad", 3, 6, 1, 2, false), -1);
  assert_int_equal(gm_nn_net_status(net), GM_ERR_INVALID_ARG);
  gm_nn_net_destroy(net);
}

static void errors_are_sticky_and_named(void **state) {
  (void)state;
  struct gm_nn_net *net = net_3x32();
  int x = gm_nn_conv2d(net, 0, "bad", 10, 3, 1, 1, 4, false); /* 3 % 4 */
  assert_int_equal(x, -1);
  assert_int_equal(gm_nn_net_status(net), GM_ERR_INVALID_ARG);
  assert_non_null(strstr(gm_nn_net_error(net), "conv 'bad'"));
  /* later calls fail too and keep the first message */
  assert_int_equal(gm_nn_relu(net, 0), -1);
  assert_non_null(strstr(gm_nn_net_error(net), "conv 'bad'"));
  struct gm_nn_stats st;
  assert_int_equal(gm_nn_net_stats(net, &st), GM_ERR_INVALID_ARG);
  gm_nn_net_destroy(net);

  struct {
    int which;
    const char *msg;
  } cases[] = {{0, "not a node"},   {1, "shapes"}, {2, "flatten it"},
               {3, "not a range"},  {4, "groups"}, {5, "smaller"},
               {6, "scale is"},     {7, "[0, 1)"}, {8, "popped"},
               {9, "concat: input"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    net = net_3x32();
    int a = gm_nn_conv2d(net, 0, "a", 4, 3, 1, 1, 1, false);
    int b = gm_nn_conv2d(net, 0, "b", 4, 3, 2, 1, 1, false);
    int r = 0;
    switch (cases[i].which) {
    case 0:
      r = gm_nn_relu(net, 99);
      break;
    case 1:
      r = gm_nn_add(net, a, b);
      break;
    case 2:
      r = gm_nn_linear(net, a, "fc", 10, true);
      break;
    case 3:
      r = gm_nn_slice(net, a, 2, 9);
      break;
    case 4:
      r = gm_nn_shuffle(net, a, 3);
      break;
    case 5:
      r = gm_nn_maxpool(net, gm_nn_global_avgpool(net, a), 2, 2, 0);
      break;
    case 6:
      r = gm_nn_mul_channel(net, a, b);
      break;
    case 7:
      r = gm_nn_dropout(net, a, 1.0);
      break;
    case 8:
      gm_nn_scope_pop(net);
      r = -1;
      break;
    case 9: {
      int xs[2] = {a, b};
      r = gm_nn_concat(net, xs, 2);
      break;
    }
    }
    assert_int_equal(r, -1);
    if (!strstr(gm_nn_net_error(net), cases[i].msg))
      fail_msg("case %zu: '%s' lacks '%s'", i, gm_nn_net_error(net),
               cases[i].msg);
    gm_nn_net_destroy(net);
  }
  assert_int_equal(gm_nn_net_create(0, 32, 32, &net), GM_ERR_INVALID_ARG);
  gm_nn_net_destroy(NULL);
}

static void zoo_lookup(void **state) {
  (void)state;
  struct gm_nn_net *net = NULL;
  assert_int_equal(gm_nn_zoo_build("resnet18", &net), GM_OK);
  struct gm_nn_stats st;
  assert_int_equal(gm_nn_net_stats(net, &st), GM_OK);
  assert_int_equal(st.params, 11173962); /* PyTorch's count */
  assert_shape(net, gm_nn_output(net), 10, 1, 1);
  gm_nn_net_destroy(net);
  assert_int_equal(gm_nn_zoo_build("LENET", &net), GM_OK);
  assert_int_equal(gm_nn_net_stats(net, &st), GM_OK);
  assert_int_equal(st.params, 62006);
  assert_int_equal(st.macs, 651720);
  gm_nn_net_destroy(net);
  assert_int_equal(gm_nn_zoo_build("AlexNet", &net), GM_ERR_NOT_FOUND);
  assert_null(net);
  for (size_t i = 0; i < gm_nn_zoo_count(); i++) {
    assert_int_equal(gm_nn_zoo_build(gm_nn_zoo_name(i), &net), GM_OK);
    assert_shape(net, gm_nn_output(net), 10, 1, 1);
    gm_nn_net_destroy(net);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(shapes),
      cmocka_unit_test(names_and_counts),
      cmocka_unit_test(grouped_conv_macs),
      cmocka_unit_test(declared_layers_count_but_do_not_run),
      cmocka_unit_test(errors_are_sticky_and_named),
      cmocka_unit_test(zoo_lookup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
