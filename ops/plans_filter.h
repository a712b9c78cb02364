/* ops/plans_filter.h: GPU plans of the ops in ops/rows_filter.def (see plans.h). */
#ifndef VB_PLANS_FILTER_H
#define VB_PLANS_FILTER_H

#include "ops.h"

#endif
