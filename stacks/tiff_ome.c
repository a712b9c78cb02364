/*
 * stacks/tiff_ome.c: the OME-TIFF layout. The OME-XML description is read with expat, so
 * entities (&#181;m), comments, CDATA and namespace prefixes are XML's, not guesses: the first
 * Pixels element's SizeX/Y/Z/C/T, DimensionOrder, PhysicalSize* (with their units, converted to
 * a common one) and TimeIncrement, and its TiffData elements, which map planes to pages (a
 * plane stored in another file is refused when asked for, naming that file).
 */
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiff_internal.h"

#define OME_MAX_DEPTH 256 /* elements nested deeper: the description is refused */

/* The attributes a layout reads, as their text; has[] says which were there. */
enum ome_attr {
	A_SIZE_X, A_SIZE_Y, A_SIZE_Z, A_SIZE_C, A_SIZE_T, A_ORDER, A_PHYS_X, A_PHYS_Y, A_PHYS_Z,
	A_UNIT_X, A_UNIT_Y, A_UNIT_Z, A_TIME, A_TIME_UNIT, A_PIXELS_COUNT
};
static const char *const pixels_attrs[A_PIXELS_COUNT] = {
	"SizeX", "SizeY", "SizeZ", "SizeC", "SizeT", "DimensionOrder", "PhysicalSizeX",
	"PhysicalSizeY", "PhysicalSizeZ", "PhysicalSizeXUnit", "PhysicalSizeYUnit",
	"PhysicalSizeZUnit", "TimeIncrement", "TimeIncrementUnit",
};
enum td_attr { T_IFD, T_FIRST_Z, T_FIRST_C, T_FIRST_T, T_PLANES, T_COUNT };
static const char *const tiffdata_attrs[T_COUNT] = {
	"IFD", "FirstZ", "FirstC", "FirstT", "PlaneCount",
};

struct tiffdata {
	char value[T_COUNT][32];
	int has[T_COUNT];
	int has_uuid, uuid_has_file;
	char uuid_file[256];
	char uuid[128];
};

struct ome_doc {
	XML_Parser parser;
	int depth;
	int seen_ome, pixels_depth, pixels_done; /* pixels_depth: > 0 inside the first Pixels */
	char root_uuid[128];
	char pixels[A_PIXELS_COUNT][64];
	int has_pixels[A_PIXELS_COUNT];
	struct tiffdata *td;       /* the first Pixels' TiffData elements */
	size_t n_td, cap_td;
	int in_uuid;               /* collecting a TiffData's UUID text */
	int nomem;
};

/* The element's name without its namespace prefix ("ome:Pixels" -> "Pixels"). */
static const char *local_name(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon ? colon + 1 : name;
}

static const char *attr(const char **atts, const char *name)
{
	for (; atts[0]; atts += 2)
		if (strcmp(local_name(atts[0]), name) == 0)
			return atts[1];
	return NULL;
}

static void keep(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void on_start(void *user, const char *name, const char **atts)
{
	struct ome_doc *doc = user;
	const char *el = local_name(name);

	if (++doc->depth > OME_MAX_DEPTH) {
		XML_StopParser(doc->parser, XML_FALSE);
		return;
	}
	if (!doc->seen_ome && strcmp(el, "OME") == 0) {
		doc->seen_ome = 1;
		keep(doc->root_uuid, sizeof(doc->root_uuid), attr(atts, "UUID"));
	} else if (!doc->pixels_done && !doc->pixels_depth && strcmp(el, "Pixels") == 0) {
		doc->pixels_depth = doc->depth;
		for (int i = 0; i < A_PIXELS_COUNT; i++) {
			const char *v = attr(atts, pixels_attrs[i]);

			doc->has_pixels[i] = v != NULL;
			keep(doc->pixels[i], sizeof(doc->pixels[i]), v);
		}
	} else if (doc->pixels_depth && strcmp(el, "TiffData") == 0) {
		struct tiffdata *t;

		if (doc->n_td == doc->cap_td) {
			size_t cap = doc->cap_td ? 2 * doc->cap_td : 16;
			void *grown = cap <= MAX_PLANES ? realloc(doc->td, cap * sizeof(*doc->td)) : NULL;

			if (!grown) {
				doc->nomem = 1;
				XML_StopParser(doc->parser, XML_FALSE);
				return;
			}
			doc->td = grown;
			doc->cap_td = cap;
		}
		t = &doc->td[doc->n_td++];
		memset(t, 0, sizeof(*t));
		for (int i = 0; i < T_COUNT; i++) {
			const char *v = attr(atts, tiffdata_attrs[i]);

			t->has[i] = v != NULL;
			keep(t->value[i], sizeof(t->value[i]), v);
		}
	} else if (doc->pixels_depth && doc->n_td && strcmp(el, "UUID") == 0 &&
		   !doc->td[doc->n_td - 1].has_uuid) {
		struct tiffdata *t = &doc->td[doc->n_td - 1];
		const char *file = attr(atts, "FileName");

		t->has_uuid = 1;
		t->uuid_has_file = file != NULL;
		keep(t->uuid_file, sizeof(t->uuid_file), file);
		doc->in_uuid = 1;
	}
}

static void on_end(void *user, const char *name)
{
	struct ome_doc *doc = user;

	(void)name;
	doc->in_uuid = 0;
	if (doc->pixels_depth == doc->depth) {
		doc->pixels_depth = 0;
		doc->pixels_done = 1;
	}
	doc->depth--;
}

static void on_text(void *user, const char *s, int len)
{
	struct ome_doc *doc = user;
	struct tiffdata *t;
	size_t have;

	if (!doc->in_uuid)
		return;
	t = &doc->td[doc->n_td - 1];
	have = strlen(t->uuid);
	if (len > 0 && have + 1 < sizeof(t->uuid))
		snprintf(t->uuid + have, sizeof(t->uuid) - have, "%.*s", len, s);
}

/* Parse the description; VB_E_ARGS naming expat's complaint when it is not well-formed XML. */
static int ome_parse(struct tiff_file *tf, struct ome_doc *doc, struct vb_err *err)
{
	const char *d = tf->description;
	size_t n = strlen(d);
	int ok;

	memset(doc, 0, sizeof(*doc));
	doc->parser = XML_ParserCreate("UTF-8");
	if (!doc->parser)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory reading the OME-XML", tf->name);
	XML_SetUserData(doc->parser, doc);
	XML_SetElementHandler(doc->parser, on_start, on_end);
	XML_SetCharacterDataHandler(doc->parser, on_text);
	ok = n <= INT32_MAX && XML_Parse(doc->parser, d, (int)n, XML_TRUE) == XML_STATUS_OK;
	if (doc->nomem) {
		XML_ParserFree(doc->parser);
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory reading the OME-XML", tf->name);
	}
	if (!ok || doc->depth > OME_MAX_DEPTH) {
		int rc = vb_errf(err, VB_E_ARGS, "%s: the OME-XML description is not well-formed "
				 "(line %lu: %s); the metadata is corrupt", tf->name,
				 (unsigned long)XML_GetCurrentLineNumber(doc->parser),
				 doc->depth > OME_MAX_DEPTH ? "elements nested too deep"
				 : XML_ErrorString(XML_GetErrorCode(doc->parser)));

		XML_ParserFree(doc->parser);
		return rc;
	}
	XML_ParserFree(doc->parser);
	return VB_OK;
}

/* An OME description names an element OME (with or without a namespace prefix). */
int tiff_detect_ome(const char *d)
{
	for (const char *p = strstr(d, "OME"); p; p = strstr(p + 1, "OME")) {
		char after = p[3];
		const char *q = p;

		if (after != ' ' && after != '>' && after != '/' && after != '\t' && after != '\n' &&
		    after != '\r')
			continue;
		if (q > d && q[-1] == ':')
			for (q--; q > d && q[-1] != '<' && q[-1] != ' ' && q[-1] != '/'; q--)
				;
		if (q > d && q[-1] == '<')
			return 1;
	}
	return 0;
}

static int size_of(const struct ome_doc *doc, enum ome_attr a, size_t dflt, size_t *out)
{
	*out = dflt;
	return doc->has_pixels[a] ? parse_size(doc->pixels[a], (size_t)1 << 31, out) : 0;
}

static int td_size(const struct tiffdata *t, enum td_attr a, size_t dflt, size_t *out)
{
	*out = dflt;
	return t->has[a] ? parse_size(t->value[a], (size_t)1 << 31, out) : 0;
}

static double positive(const struct ome_doc *doc, enum ome_attr a)
{
	char *end;
	double v;

	if (!doc->has_pixels[a])
		return 0;
	v = c_strtod(doc->pixels[a], &end);
	return end != doc->pixels[a] && positive_finite(v) ? v : 0;
}

/* PhysicalSizeX/Y/Z with their units; converted to um when the units differ. */
static void ome_calibration(struct tiff_file *tf, const struct ome_doc *doc)
{
	struct tiff_meta *m = &tf->meta;
	char unit[3][16];
	double v[3], um[3];
	int i, same = 1, any = 0;

	for (i = 0; i < 3; i++) {
		v[i] = positive(doc, A_PHYS_X + i);
		um[i] = norm_unit(doc->has_pixels[A_UNIT_X + i] ? doc->pixels[A_UNIT_X + i] : "um",
				  unit[i]);
		any |= v[i] > 0;
		if (v[i] > 0 && strcmp(unit[i], unit[0]))
			same = 0;
	}
	if (!any)
		return;
	for (i = 0; i < 3; i++)
		if (v[i] > 0)
			m->voxel_size[i] = same || !um[i] ? v[i] : v[i] * um[i];
	snprintf(m->unit, sizeof(m->unit), "%s", same || !um[0] ? unit[0] : "um");
	v[0] = positive(doc, A_TIME);
	if (v[0] > 0) {
		m->frame_interval = v[0];
		copy_text(m->time_unit, sizeof(m->time_unit),
			  doc->has_pixels[A_TIME_UNIT] ? doc->pixels[A_TIME_UNIT] : "s");
	}
}

/* Is the TiffData element t stored in this file? */
static int in_this_file(const struct tiff_file *tf, const struct ome_doc *doc,
			const struct tiffdata *t)
{
	const char *slash = strrchr(tf->name, '/');
	const char *me = slash ? slash + 1 : tf->name;
	size_t n = strlen(doc->root_uuid);

	if (!t->has_uuid || !t->uuid_has_file || strcmp(t->uuid_file, me) == 0)
		return 1;
	return n && strncmp(t->uuid, doc->root_uuid, n) == 0;
}

/* One TiffData element: map its planes to IFDs. */
static int ome_tiffdata(struct tiff_file *tf, const struct tiffdata *t, int here, size_t *work,
			struct vb_err *err)
{
	size_t ifd, count, fz, fc, ft, start, k;

	if (td_size(t, T_IFD, 0, &ifd) || td_size(t, T_FIRST_Z, 0, &fz) ||
	    td_size(t, T_FIRST_C, 0, &fc) || td_size(t, T_FIRST_T, 0, &ft) ||
	    td_size(t, T_PLANES, t->has[T_IFD] ? 1 : tf->n_ifd, &count) ||
	    fz >= tf->meta.depth || fc >= tf->meta.channels || ft >= tf->meta.frames)
		return vb_errf(err, VB_E_ARGS, "%s: an OME TiffData element has a bad IFD, FirstZ, "
			       "FirstC, FirstT or PlaneCount; the metadata is corrupt", tf->name);
	start = fz * tf->stride_z + fc * tf->stride_c + ft * tf->stride_t;
	for (k = 0; k < count && start + k < tf->n_planes; k++) {
		if (++*work > 4 * tf->n_planes + 4096)
			return vb_errf(err, VB_E_ARGS, "%s: the OME TiffData elements overlap far too "
				       "much; the metadata is corrupt", tf->name);
		if (here && ifd + k >= tf->n_ifd)
			return vb_errf(err, VB_E_ARGS, "%s: OME TiffData maps a plane to page %zu but "
				       "the file has %zu pages; the file is truncated", tf->name,
				       ifd + k + 1, tf->n_ifd);
		tf->plane_ifd[start + k] = here ? (int64_t)(ifd + k) : -2;
	}
	return VB_OK;
}

static int ome_planes(struct tiff_file *tf, const struct ome_doc *doc, struct vb_err *err)
{
	size_t work = 0;
	int rc;

	if (!doc->n_td)
		return VB_OK; /* no TiffData: planes are the pages in order */
	tf->plane_ifd = malloc(tf->n_planes * sizeof(*tf->plane_ifd));
	if (!tf->plane_ifd)
		return vb_errf(err, VB_E_NOMEM, "%s: out of memory", tf->name);
	for (size_t i = 0; i < tf->n_planes; i++)
		tf->plane_ifd[i] = -1;
	for (size_t i = 0; i < doc->n_td; i++)
		if ((rc = ome_tiffdata(tf, &doc->td[i], in_this_file(tf, doc, &doc->td[i]), &work,
				       err)) != VB_OK)
			return rc;
	return VB_OK;
}

static int ome_sizes(struct tiff_file *tf, const struct ome_doc *doc, struct vb_err *err)
{
	size_t sx, sy, sz, sc, st;
	char order[64] = "XYZCT", lower[4];

	if (doc->has_pixels[A_ORDER])
		snprintf(order, sizeof(order), "%s", doc->pixels[A_ORDER]);
	if (size_of(doc, A_SIZE_X, 0, &sx) || size_of(doc, A_SIZE_Y, 0, &sy) ||
	    size_of(doc, A_SIZE_Z, 1, &sz) || size_of(doc, A_SIZE_C, 1, &sc) ||
	    size_of(doc, A_SIZE_T, 1, &st) || !sz || !sc || !st)
		return vb_errf(err, VB_E_ARGS, "%s: the OME Pixels element has a bad SizeX/Y/Z/C/T; "
			       "the metadata is corrupt", tf->name);
	if (sx != tf->meta.width || sy != tf->meta.height)
		return vb_errf(err, VB_E_ARGS, "%s: OME says SizeX=%zu SizeY=%zu but the pages are "
			       "%zux%zu; the metadata is corrupt", tf->name, sx, sy, tf->meta.width,
			       tf->meta.height);
	for (int i = 0; i < 3; i++)
		lower[i] = (char)(order[2 + i] | 0x20);
	lower[3] = '\0';
	if (strncmp(order, "XY", 2) || strlen(order) != 5 || !strchr(lower, 'z') ||
	    !strchr(lower, 'c') || !strchr(lower, 't'))
		return vb_errf(err, VB_E_ARGS, "%s: OME DimensionOrder '%s' is not XY followed by Z, "
			       "C and T; the metadata is corrupt", tf->name, order);
	tiff_set_order(tf, sz, sc, st, lower);
	return VB_OK;
}

int tiff_layout_ome(struct tiff_file *tf, struct vb_err *err)
{
	struct ome_doc doc;
	int rc = ome_parse(tf, &doc, err);

	if (rc != VB_OK)
		goto out;
	if (!doc.pixels_done && !doc.pixels_depth) {
		tiff_layout_plain(tf);
		snprintf(tf->meta.note, sizeof(tf->meta.note), "OME-XML without a Pixels element; "
			 "every page read as a z slice");
		goto out;
	}
	tf->meta.layout = TIFF_LAYOUT_OME;
	if ((rc = ome_sizes(tf, &doc, err)) != VB_OK)
		goto out;
	ome_calibration(tf, &doc);
	if ((rc = tiff_count_planes(tf, err)) == VB_OK)
		rc = ome_planes(tf, &doc, err);
out:
	free(doc.td);
	return rc;
}
