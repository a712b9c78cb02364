/* reference_cpu/ref_stencil.h: references of the ops in ops/rows_stencil.def (see reference.h). */
#ifndef VB_REF_STENCIL_H
#define VB_REF_STENCIL_H

#include "../ops/ops.h"

#endif
