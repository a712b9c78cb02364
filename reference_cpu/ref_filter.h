/* reference_cpu/ref_filter.h: references of the ops in ops/rows_filter.def (see reference.h). */
#ifndef VB_REF_FILTER_H
#define VB_REF_FILTER_H

#include "../ops/ops.h"

#endif
