/* reference_cpu/ref_projection.h: references of the ops in ops/rows_projection.def (see reference.h). */
#ifndef VB_REF_PROJECTION_H
#define VB_REF_PROJECTION_H

#include "../ops/ops.h"

#endif
