/* reference_cpu/ref_measure.h: references of the ops in ops/rows_measure.def (see reference.h). */
#ifndef VB_REF_MEASURE_H
#define VB_REF_MEASURE_H

#include "../ops/ops.h"

#endif
