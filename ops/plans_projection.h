/* ops/plans_projection.h: GPU plans of the ops in ops/rows_projection.def (see plans.h). */
#ifndef VB_PLANS_PROJECTION_H
#define VB_PLANS_PROJECTION_H

#include "ops.h"

#endif
