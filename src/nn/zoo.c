/* zoo.c: the only list of models: the 16 CIFAR-10 architectures of the
 * study, by the names used on the command line. */
#include <stddef.h>
#include <strings.h>

#include "greenml/nn.h"
#include "nn/models/models.h"

struct zoo_entry {
  const char *name;
  enum gm_status (*build)(struct gm_nn_net *net);
};

static const struct zoo_entry zoo[] = {
    /* group A */
    {"LeNet", gm__model_lenet},
    {"ResNet18", gm__model_resnet18},
    {"VGG16", gm__model_vgg16},
    {"PreActResNet18", gm__model_preact_resnet18},
    {"GoogLeNet", gm__model_googlenet},
    {"DenseNet121", gm__model_densenet121},
    {"ResNeXt29_2x64d", gm__model_resnext29_2x64d},
    {"MobileNet", gm__model_mobilenet},
    {"SENet18", gm__model_senet18},
    /* group B */
    {"MobileNetV2", gm__model_mobilenetv2},
    {"DPN26", gm__model_dpn26},
    {"ShuffleNetV2", gm__model_shufflenetv2},
    {"EfficientNetB0", gm__model_efficientnetb0},
    {"RegNetX_200MF", gm__model_regnetx_200mf},
    {"SimpleDLA", gm__model_simpledla},
    {"PNASNetB", gm__model_pnasnetb},
};

size_t gm_nn_zoo_count(void) { return sizeof(zoo) / sizeof(zoo[0]); }

const char *gm_nn_zoo_name(size_t i) {
  return i < gm_nn_zoo_count() ? zoo[i].name : NULL;
}

enum gm_status gm_nn_zoo_build(const char *name, struct gm_nn_net **out) {
  if (!name || !out)
    return GM_ERR_INVALID_ARG;
  *out = NULL;
  for (size_t i = 0; i < gm_nn_zoo_count(); i++) {
    if (strcasecmp(name, zoo[i].name) != 0)
      continue;
    struct gm_nn_net *net = NULL;
    enum gm_status rc = gm_nn_net_create(3, 32, 32, &net);
    if (rc != GM_OK)
      return rc;
    rc = zoo[i].build(net);
    if (rc != GM_OK) {
      gm_nn_net_destroy(net);
      return rc;
    }
    *out = net;
    return GM_OK;
  }
  return GM_ERR_NOT_FOUND;
}
