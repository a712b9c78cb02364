/* reference_cpu/ref_transform.h: references of the ops in ops/rows_transform.def (see reference.h). */
#ifndef VB_REF_TRANSFORM_H
#define VB_REF_TRANSFORM_H

#include "../ops/ops.h"

#endif
