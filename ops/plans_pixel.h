/* ops/plans_pixel.h: GPU plans of the ops in ops/rows_pixel.def (see plans.h). */
#ifndef VB_PLANS_PIXEL_H
#define VB_PLANS_PIXEL_H

#include "ops.h"

#endif
