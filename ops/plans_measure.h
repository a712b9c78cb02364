/* ops/plans_measure.h: GPU plans of the ops in ops/rows_measure.def (see plans.h). */
#ifndef VB_PLANS_MEASURE_H
#define VB_PLANS_MEASURE_H

#include "ops.h"

#endif
