/* analysis_internal.h: helpers shared by the analysis files. */
#ifndef GM_ANALYSIS_INTERNAL_H
#define GM_ANALYSIS_INTERNAL_H

#include <stdbool.h>

#include "greenml/analysis.h"

/* Whether phase p is selected by sel; *kind (optional) receives its kind
 * with a "profile-" prefix removed when sel->with_profile. */
bool gm__an_selected(const struct gm_analysis_phase *p,
                     const struct gm_analysis_select *sel, const char **kind);
/* A variable's value for one phase or cell; NAN when not recorded. */
double gm__an_phase_value(const struct gm_analysis_phase *p,
                          const struct gm_analysis_select *sel,
                          enum gm_analysis_var v);
double gm__an_cell_value(const struct gm_analysis_cell *c,
                         enum gm_analysis_var v);
/* The batch size with the most data among the selected phases: for model
 * (not NULL) the most phases of it, else the most models; ties go to the
 * one nearest 128, then the larger. *out 0 when nothing is selected. */
enum gm_status gm__an_best_batch(const struct gm_analysis_table *t,
                                 const struct gm_analysis_select *sel,
                                 const char *model, int *out);

#endif
