/* cmd_mark.c: `greenml mark NAME` / `greenml mark --end`: phase markers from
 * a shell script running under `greenml measure`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "greenml/mark.h"

static const char usage_text[] =
    "usage: greenml mark NAME | greenml mark --end\n"
    "\n"
    "Inside a command run by 'greenml measure': begins the phase NAME (ending\n"
    "the open one) or ends the open phase. Per-phase energy comes from the\n"
    "same time series as the whole run. NAME: 1 to 63 printable bytes.\n";

int cmd_mark(int argc, char **argv) {
  if (argc == 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (argc != 2) {
    fputs(usage_text, stderr);
    return GM_EXIT_USAGE;
  }
  bool end = strcmp(argv[1], "--end") == 0;
  if (!end && argv[1][0] == '-') {
    gm_cli_error("mark", "unknown option '%s'", argv[1]);
    return GM_EXIT_USAGE;
  }
  enum gm_status rc = end ? gm_phase_end() : gm_phase_begin(argv[1]);
  switch (rc) {
  case GM_OK:
    return 0;
  case GM_ERR_INVALID_ARG:
    gm_cli_error("mark",
                 "phase name '%s' must be 1 to 63 printable bytes, not only "
                 "spaces",
                 argv[1]);
    return GM_EXIT_USAGE;
  case GM_ERR_UNAVAILABLE:
    gm_cli_error("mark",
                 "not running under 'greenml measure' (%s is unset "
                 "or stale); run: greenml measure -- YOUR-COMMAND",
                 GM_MARK_ENV);
    return GM_EXIT_UNAVAIL;
  default:
    gm_cli_error("mark", "cannot write the marker: %s", gm_status_str(rc));
    return GM_EXIT_IOERR;
  }
}
