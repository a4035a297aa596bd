/* effects: see effects.h. */
#include "effects.h"

#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 8;
	p = realloc(*v, c * size);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

void effects_feed(struct effects *e, const char *structure_id)
{
	if (!e || !structure_id[0] || effects_touches(e, structure_id))
		return;
	if (grow((void **)&e->structures, &e->cap_structures, e->n_structures,
		 sizeof(*e->structures)) != 0) {
		e->failed = 1;
		return;
	}
	snprintf(e->structures[e->n_structures++], sizeof(*e->structures), "%s", structure_id);
}

void effects_delta(struct effects *e, uint64_t seq, Veille__V1__CentrePlaces *centre)
{
	if (grow((void **)&e->deltas, &e->cap_deltas, e->n_deltas, sizeof(*e->deltas)) != 0) {
		e->failed = 1;
		codec_stored_free(&centre->base);
		return;
	}
	e->deltas[e->n_deltas].seq = seq;
	e->deltas[e->n_deltas].centre = centre;
	e->n_deltas++;
}

int effects_touches(const struct effects *e, const char *structure_id)
{
	if (e->failed)
		return 1;
	for (size_t i = 0; i < e->n_structures; i++)
		if (strcmp(e->structures[i], structure_id) == 0)
			return 1;
	return 0;
}

void effects_reset(struct effects *e)
{
	for (size_t i = 0; i < e->n_deltas; i++)
		codec_stored_free(&e->deltas[i].centre->base);
	e->n_deltas = 0;
	e->n_structures = 0;
	e->failed = 0;
}

void effects_free(struct effects *e)
{
	effects_reset(e);
	free(e->structures);
	free(e->deltas);
	memset(e, 0, sizeof(*e));
}
