/*
 * replica: the records the device holds (see replica.h for the design).
 */
#include "replica.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "person.h"

#define ID_MAX 64 /* bytes of a record id used as a key; the server's are 32 */

static int bad_id(struct veille_error *err)
{
	return errors_set(err, VEILLE_EPROTO, "a record id is empty or over %d bytes", ID_MAX);
}

static int id_ok(const char *rid)
{
	return rid && *rid && strlen(rid) <= ID_MAX;
}

int replica_clock_load(struct local_txn *t, struct hlc *clock)
{
	uint8_t *val = NULL;
	size_t len = 0;
	int rc, found;

	memset(clock, 0, sizeof *clock);
	rc = local_get(t, LOCAL_META, LOCAL_META_HLC, strlen(LOCAL_META_HLC), &val, &len, &found);
	if (rc || !found)
		return rc;
	rc = hlc_decode(val, len, clock) == 0 ? 0 : VEILLE_ECORRUPT;
	free(val);
	return rc;
}

int replica_clock_save(struct local_txn *t, const struct hlc *clock)
{
	uint8_t buf[HLC_ENCODED];

	hlc_encode(clock, buf);
	return local_put(t, LOCAL_META, LOCAL_META_HLC, strlen(LOCAL_META_HLC), buf, sizeof buf, 0);
}

/* The held change of rid, or NULL. */
static int load(struct local_txn *t, const char *rid, Veille__V1__Change **held)
{
	uint8_t *val = NULL;
	size_t len = 0;
	int rc, found;

	*held = NULL;
	rc = local_get(t, LOCAL_RECORDS, rid, strlen(rid), &val, &len, &found);
	if (rc || !found)
		return rc;
	*held = veille__v1__change__unpack(NULL, len, val);
	free(val);
	return *held ? 0 : VEILLE_ECORRUPT;
}

static int put_change(struct local_txn *t, const Veille__V1__Change *ch)
{
	size_t len = veille__v1__change__get_packed_size(ch);
	uint8_t *buf = malloc(len ? len : 1);
	int rc;

	if (!buf)
		return VEILLE_ENOMEM;
	veille__v1__change__pack(ch, buf);
	rc = local_put(t, LOCAL_RECORDS, ch->record_id, strlen(ch->record_id), buf, len, 0);
	free(buf);
	return rc;
}

/* A copy of ch that owns all its memory (free with veille__v1__change__free_unpacked). */
static int own(const Veille__V1__Change *ch, Veille__V1__Change **out)
{
	size_t len = veille__v1__change__get_packed_size(ch);
	uint8_t *buf = malloc(len ? len : 1);

	*out = NULL;
	if (!buf)
		return VEILLE_ENOMEM;
	veille__v1__change__pack(ch, buf);
	*out = veille__v1__change__unpack(NULL, len, buf);
	free(buf);
	return *out ? 0 : VEILLE_ENOMEM;
}

static const Veille__V1__Person *person_of(const Veille__V1__Change *ch)
{
	return ch && ch->record_case == VEILLE__V1__CHANGE__RECORD_PERSON ? ch->person : NULL;
}

/*
 * The profile of held (if a person) merged with incoming, at version max(held's, version),
 * in a Change borrowing from both, handed to fn. *same says nothing would change.
 */
struct merged {
	Veille__V1__Change ch;
	Veille__V1__Person p;
	Veille__V1__PersonFieldValue *fields[PERSON_MAX_MERGED];
	int same;
};

static void merge(const char *rid, const Veille__V1__Change *held, uint64_t seq,
		  uint64_t version, const Veille__V1__Person *incoming, struct merged *m)
{
	const Veille__V1__Person *hp = person_of(held);
	const char *team = incoming && incoming->team_id && *incoming->team_id
				   ? incoming->team_id
				   : hp && hp->team_id ? hp->team_id : "";
	int changed;

	veille__v1__change__init(&m->ch);
	veille__v1__person__init(&m->p);
	m->p.n_fields = person_merge(hp, incoming, m->fields, &changed);
	m->p.fields = m->fields;
	m->p.team_id = (char *)team;
	m->ch.record_id = (char *)rid;
	m->ch.version = held && held->version > version ? held->version : version;
	m->ch.seq = held && held->version >= version ? held->seq : seq;
	m->ch.record_case = VEILLE__V1__CHANGE__RECORD_PERSON;
	m->ch.person = &m->p;
	m->same = hp && !changed && m->ch.version == held->version &&
		  strcmp(team, hp->team_id ? hp->team_id : "") == 0;
}

int replica_apply(struct local_txn *t, const Veille__V1__Change *ch, struct hlc *clock,
		  int *clock_changed)
{
	Veille__V1__Change *held = NULL;
	int rc;

	if (!id_ok(ch->record_id))
		return bad_id(NULL);
	if (ch->withdrawn) /* the device's access ended: it drops what it holds */
		return local_del(t, LOCAL_RECORDS, ch->record_id, strlen(ch->record_id));
	if ((rc = load(t, ch->record_id, &held)))
		return rc;
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_PERSON && ch->person) {
		struct merged m;

		for (size_t i = 0; i < ch->person->n_fields; i++)
			if (ch->person->fields[i] && hlc_observe(clock, ch->person->fields[i]->hlc))
				*clock_changed = 1;
		merge(ch->record_id, held, ch->seq, ch->version, ch->person, &m);
		rc = m.same ? 0 : put_change(t, &m.ch);
	} else if (!held || held->version < ch->version) {
		rc = put_change(t, ch);
	}
	if (held)
		veille__v1__change__free_unpacked(held, NULL);
	return rc;
}

int replica_merge_edit(struct local_txn *t, const char *record_id,
		       const Veille__V1__Person *edit)
{
	Veille__V1__Change *held = NULL;
	struct merged m;
	int rc;

	if (!id_ok(record_id))
		return bad_id(NULL);
	if ((rc = load(t, record_id, &held)))
		return rc;
	merge(record_id, held, held ? held->seq : 0, held ? held->version : 0, edit, &m);
	rc = m.same ? 0 : put_change(t, &m.ch);
	if (held)
		veille__v1__change__free_unpacked(held, NULL);
	return rc;
}

struct pages_ctx {
	const Veille__V1__PullResult *const *pages;
	size_t n;
	int mark_synced;
	uint64_t now_ms;
	uint64_t cursor;
};

static int store_pages(struct local_txn *t, void *arg)
{
	struct pages_ctx *c = arg;
	struct hlc clock;
	uint64_t stored, next = 0;
	int rc, clock_changed = 0;

	if ((rc = replica_clock_load(t, &clock)))
		return rc;
	for (size_t p = 0; p < c->n; p++) {
		const Veille__V1__PullResult *page = c->pages[p];

		for (size_t i = 0; i < page->n_changes; i++)
			if ((rc = replica_apply(t, page->changes[i], &clock, &clock_changed)))
				return rc;
		if (page->next_cursor > next)
			next = page->next_cursor;
	}
	if ((rc = local_get_u64(t, LOCAL_META_PULL_CURSOR, &stored, NULL)))
		return rc;
	c->cursor = next > stored ? next : stored;
	if (c->cursor != stored && (rc = local_put_u64(t, LOCAL_META_PULL_CURSOR, c->cursor)))
		return rc;
	if (c->mark_synced && (rc = local_put_u64(t, LOCAL_META_LAST_SYNC, c->now_ms)))
		return rc;
	return clock_changed ? replica_clock_save(t, &clock) : 0;
}

int replica_store_pages(struct local *l, const Veille__V1__PullResult *const *pages, size_t n,
			int mark_synced, uint64_t now_ms, uint64_t *cursor,
			struct veille_error *err)
{
	struct pages_ctx c = { pages, n, mark_synced, now_ms, 0 };
	int rc;

	for (size_t p = 0; p < n; p++)
		for (size_t i = 0; i < pages[p]->n_changes; i++)
			if (!id_ok(pages[p]->changes[i]->record_id))
				return bad_id(err);
	rc = local_write(l, store_pages, &c, err);
	if (rc == 0)
		*cursor = c.cursor;
	else if (!err || !err->message[0])
		errors_set(err, rc, "cannot store the pulled changes");
	return rc;
}

struct get_ctx {
	const char *rid;
	Veille__V1__Change *acc; /* owned */
	size_t pending;
};

/* Folds one outbox op about the record into the accumulated view. */
static int fold_pending(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
			void *arg)
{
	struct get_ctx *g = arg;
	Veille__V1__Mutation *op = veille__v1__mutation__unpack(NULL, vlen, val);
	Veille__V1__Change *next = NULL;
	int rc = 0;

	(void)key;
	(void)klen;
	if (!op)
		return VEILLE_ECORRUPT;
	if (!op->record_id || strcmp(op->record_id, g->rid) != 0)
		goto out;
	g->pending++;
	if (op->record_case == VEILLE__V1__MUTATION__RECORD_PERSON && op->person) {
		struct merged m;

		merge(g->rid, g->acc, g->acc ? g->acc->seq : 0, g->acc ? g->acc->version : 0,
		      op->person, &m);
		rc = own(&m.ch, &next);
	} else if (op->record_case != VEILLE__V1__MUTATION__RECORD__NOT_SET) {
		/* Events (encounters, orientation records): the queued version replaces the
		 * last one seen, as the server will make it. Mutation and Change have the same
		 * record cases (field numbers) and each keeps its record in a union of pointers:
		 * copying the one pointer copies whichever record it is. */
		Veille__V1__Change ch = VEILLE__V1__CHANGE__INIT;

		ch.record_id = (char *)g->rid;
		ch.version = op->base_version + 1;
		ch.record_case = (Veille__V1__Change__RecordCase)op->record_case;
		ch.encounter = op->encounter;
		rc = own(&ch, &next);
	}
	if (next) {
		if (g->acc)
			veille__v1__change__free_unpacked(g->acc, NULL);
		g->acc = next;
	}
out:
	veille__v1__mutation__free_unpacked(op, NULL);
	return rc;
}

static int get_txn(struct local_txn *t, void *arg)
{
	struct get_ctx *g = arg;
	int rc = load(t, g->rid, &g->acc);

	return rc ? rc : local_each(t, LOCAL_OUTBOX, NULL, 0, fold_pending, g);
}

int replica_get(struct local *l, const char *record_id, Veille__V1__Change **out,
		size_t *pending, struct veille_error *err)
{
	struct get_ctx g = { record_id, NULL, 0 };
	int rc;

	*out = NULL;
	*pending = 0;
	if (!id_ok(record_id))
		return errors_set(err, VEILLE_EARG, "record id: 1 to %d bytes", ID_MAX);
	rc = local_read(l, get_txn, &g, err);
	if (rc) {
		if (g.acc)
			veille__v1__change__free_unpacked(g.acc, NULL);
		if (err && !err->message[0])
			errors_set(err, rc, "cannot read the local record");
		return rc;
	}
	*out = g.acc;
	*pending = g.pending;
	return 0;
}
