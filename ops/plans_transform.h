/* ops/plans_transform.h: GPU plans of the ops in ops/rows_transform.def (see plans.h). */
#ifndef VB_PLANS_TRANSFORM_H
#define VB_PLANS_TRANSFORM_H

#include "ops.h"

#endif
