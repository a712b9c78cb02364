/* ops/built_table.c: what a device built in this process, so nothing is built twice. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

static int same_id(const char *id, const char *name, const char *options)
{
	size_t n = strlen(name);

	return strncmp(id, name, n) == 0 && id[n] == '\n' && strcmp(id + n + 1, options) == 0;
}

void *built_table_find(const struct built_table *t, const char *name, const char *options)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_id(t->entries[i].id, name, options))
			return t->entries[i].handle;
	return NULL;
}

int built_table_add(struct built_table *t, const char *name, const char *options, void *handle,
		    struct vb_err *err)
{
	struct built_entry *grown = realloc(t->entries, (t->n + 1) * sizeof(*grown));
	char *id;

	if (!grown)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	t->entries = grown;
	if (asprintf(&id, "%s\n%s", name, options) < 0)
		return vb_errf(err, VB_E_NOMEM, "out of host memory");
	grown[t->n].id = id;
	grown[t->n].handle = handle;
	t->n++;
	return VB_OK;
}

void built_table_free(struct built_table *t, void (*release)(void *handle))
{
	for (size_t i = 0; i < t->n; i++) {
		if (release)
			release(t->entries[i].handle);
		free(t->entries[i].id);
	}
	free(t->entries);
	t->entries = NULL;
	t->n = 0;
}

void *built_table_take(struct built_table *t, const char *name, const char *options)
{
	for (size_t i = 0; i < t->n; i++)
		if (same_id(t->entries[i].id, name, options)) {
			void *handle = t->entries[i].handle;

			free(t->entries[i].id);
			t->entries[i] = t->entries[--t->n];
			return handle;
		}
	return NULL;
}
