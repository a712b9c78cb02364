/* reference_cpu/ref_label.h: references of the ops in ops/rows_label.def (see reference.h). */
#ifndef VB_REF_LABEL_H
#define VB_REF_LABEL_H

#include "../ops/ops.h"

#endif
