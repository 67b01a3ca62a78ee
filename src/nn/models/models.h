/* models.h: the zoo's builders (internal). Each appends one CIFAR-10
 * architecture (3x32x32 in, 10 logits out) to an empty net, with the layer
 * and parameter names of the reference PyTorch definitions (see
 * docs/models.md), and returns gm_nn_net_status(net). */
#ifndef GM_NN_MODELS_H
#define GM_NN_MODELS_H

#include "greenml/nn.h"

enum gm_status gm__model_lenet(struct gm_nn_net *net);
enum gm_status gm__model_vgg16(struct gm_nn_net *net);
enum gm_status gm__model_resnet18(struct gm_nn_net *net);
enum gm_status gm__model_preact_resnet18(struct gm_nn_net *net);
enum gm_status gm__model_googlenet(struct gm_nn_net *net);
enum gm_status gm__model_densenet121(struct gm_nn_net *net);
enum gm_status gm__model_resnext29_2x64d(struct gm_nn_net *net);
enum gm_status gm__model_mobilenet(struct gm_nn_net *net);
enum gm_status gm__model_mobilenetv2(struct gm_nn_net *net);
enum gm_status gm__model_dpn26(struct gm_nn_net *net);
enum gm_status gm__model_shufflenetv2(struct gm_nn_net *net);
enum gm_status gm__model_senet18(struct gm_nn_net *net);
enum gm_status gm__model_efficientnetb0(struct gm_nn_net *net);
enum gm_status gm__model_regnetx_200mf(struct gm_nn_net *net);
enum gm_status gm__model_simpledla(struct gm_nn_net *net);
enum gm_status gm__model_pnasnetb(struct gm_nn_net *net);

/* Common pieces. */
/* conv (no bias) -> batch norm [-> relu]; names "<conv>", "<bn>". */
int gm__conv_bn(struct gm_nn_net *net, int x, const char *conv, const char *bn,
                int out, int k, int stride, int pad, int groups, bool relu);

#endif
