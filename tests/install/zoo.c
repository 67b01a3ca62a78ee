/* zoo.c: built by tests/install/CMakeLists.txt against an installed greenml
 * through find_package(greenml COMPONENTS nn). Prints the version the
 * headers declare, a status message from libgreenml and the models of the
 * zoo from libgreenml-nn, one a line. */
#include <stdio.h>

#include <greenml/nn.h>
#include <greenml/status.h>

int main(void) {
  printf("version %s\n", GM_VERSION_STRING);
  printf("status %s\n", gm_status_str(GM_OK));
  for (size_t i = 0; i < gm_nn_zoo_count(); i++)
    printf("model %s\n", gm_nn_zoo_name(i));
  return 0;
}
