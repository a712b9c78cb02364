/* ops/plans_label.h: GPU plans of the ops in ops/rows_label.def (see plans.h). */
#ifndef VB_PLANS_LABEL_H
#define VB_PLANS_LABEL_H

#include "ops.h"

#endif
