/* reference_cpu/ref_pixel.h: references of the ops in ops/rows_pixel.def (see reference.h). */
#ifndef VB_REF_PIXEL_H
#define VB_REF_PIXEL_H

#include "../ops/ops.h"

#endif
