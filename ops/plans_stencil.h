/* ops/plans_stencil.h: GPU plans of the ops in ops/rows_stencil.def (see plans.h). */
#ifndef VB_PLANS_STENCIL_H
#define VB_PLANS_STENCIL_H

#include "ops.h"

#endif
