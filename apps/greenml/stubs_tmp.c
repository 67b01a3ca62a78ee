#include "cli.h"
int cmd_measure(int argc, char **argv) { (void)argc; (void)argv; return 70; }
int cmd_idle(int argc, char **argv) { (void)argc; (void)argv; return 70; }
int cmd_sources(int argc, char **argv) { (void)argc; (void)argv; return 70; }
int cmd_monitor(int argc, char **argv) { (void)argc; (void)argv; return 70; }
int cmd_mark(int argc, char **argv) { (void)argc; (void)argv; return 70; }
int cmd_runs(int argc, char **argv) { (void)argc; (void)argv; return 70; }
