/*
 * stacks/tiff_shaped.c: tifffile's layout, a JSON description {"shape": [...], "axes": "..."}
 * (read with jansson): the last two axes are y and x; with "axes", T, Z and C are found by letter
 * (other letters fold into z); without it, leading axes are read right-aligned as T, Z, C.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "tiff_internal.h"

int tiff_detect_shaped(const char *d)
{
	return d[0] == '{' && strstr(d, "\"shape\"") != NULL;
}

/* The "shape" array: up to 32 sizes (integers 0 .. 2^31); the count, -1 when malformed. */
static int shaped_dims(const json_t *root, size_t dims[32])
{
	const json_t *shape = json_object_get(root, "shape"), *v;
	size_t i;

	if (!json_is_array(shape) || json_array_size(shape) > 32)
		return -1;
	json_array_foreach(shape, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > ((json_int_t)1 << 31))
			return -1;
		dims[i] = (size_t)json_integer_value(v);
	}
	return (int)json_array_size(shape);
}

/* The "axes" string, upper-cased, or "" when absent. */
static void shaped_axes(const json_t *root, char *axes, size_t n)
{
	const char *a = json_string_value(json_object_get(root, "axes"));
	size_t i = 0;

	for (; a && a[i] && i + 1 < n; i++)
		axes[i] = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 32) : a[i];
	axes[i] = '\0';
}

/*
 * Give each leading axis (all but y, x) a role 'z', 'c' or 't': by letter when "axes" is there,
 * otherwise right-aligned T, Z, C. Returns -1 when two axes of size > 1 want one role.
 */
static int shaped_roles(const size_t *dims, int lead, const char *axes, char *roles)
{
	static const char *defaults[] = { "", "z", "tz", "tzc" };
	size_t seen[3] = { 0, 0, 0 };
	int i;

	for (i = 0; i < lead; i++) {
		char a = axes[0] ? axes[i] : defaults[lead][i];
		roles[i] = a == 'T' || a == 't' ? 't' : a == 'C' || a == 'c' ? 'c' : 'z';
	}
	for (i = 0; i < lead; i++) {
		int k = roles[i] == 'z' ? 0 : roles[i] == 'c' ? 1 : 2;
		if (dims[i] > 1 && seen[k]++)
			return -1;
	}
	return 0;
}

int tiff_layout_shaped(struct tiff_file *tf, struct vb_err *err)
{
	size_t dims[32], size[3] = { 1, 1, 1 }, stride[3] = { 0, 0, 0 }, s = 1;
	char axes[40], roles[32];
	json_t *root = json_loads(tf->description, JSON_DISABLE_EOF_CHECK, NULL);
	int n = shaped_dims(root, dims), lead, i;

	(void)err;
	shaped_axes(root, axes, sizeof(axes));
	json_decref(root);
	lead = n - 2;
	for (i = 0; i < n; i++)
		if (dims[i] == 0)
			n = -1;
	if (n < 2 || dims[n - 1] != tf->meta.width || dims[n - 2] != tf->meta.height ||
	    (axes[0] && ((int)strlen(axes) != n || strcmp(axes + n - 2, "YX"))) ||
	    (!axes[0] && lead > 3) ||
	    shaped_roles(dims, lead, axes, roles) < 0) {
		tiff_layout_plain(tf);
		snprintf(tf->meta.note, sizeof(tf->meta.note), "tifffile shape description not "
			 "understood; every page read as a z slice");
		return VB_OK;
	}
	tf->meta.layout = TIFF_LAYOUT_SHAPED;
	for (i = lead - 1; i >= 0; i--) {
		int k = roles[i] == 'z' ? 0 : roles[i] == 'c' ? 1 : 2;
		if (dims[i] > 1) {
			size[k] = dims[i];
			stride[k] = s;
		}
		s *= dims[i];
	}
	tiff_set_order(tf, size[0], size[1], size[2], "zct");
	tf->stride_z = stride[0] ? stride[0] : 1;
	tf->stride_c = stride[1] ? stride[1] : 1;
	tf->stride_t = stride[2] ? stride[2] : 1;
	for (i = 0; i < 3; i++) { /* order text: axes sorted by stride, fastest first */
		size_t st[3] = { tf->stride_z, tf->stride_c, tf->stride_t };
		int r = 0;
		for (int j = 0; j < 3; j++)
			r += st[j] < st[i] || (st[j] == st[i] && j < i);
		tf->meta.order[r] = "zct"[i];
	}
	tiff_res_calibration(tf);
	return VB_OK;
}

