/*
 * outbox: the durable queue of ops (see outbox.h for the design).
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "hlc.h"
#include "person.h"
#include "replica.h"

/* Bytes a Mutation of len bytes takes inside a PushRequest: tag, varint length, body. */
static size_t framed_size(size_t len)
{
	size_t n = 1 + len, v = len;

	do {
		n++;
		v >>= 7;
	} while (v);
	return n;
}

static int is_id(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 32;
}

/* What veille_outbox_add accepts; NULL if m is fine, else why not. */
static const char *unfit(const Veille__V1__Mutation *m)
{
	if (!m)
		return "a mutation is NULL";
	if (m->op_counter != 0)
		return "a mutation already has an op_counter (queued or pushed before)";
	if (!is_id(m->record_id))
		return "record_id must be 32 lowercase hex characters";
	switch (m->record_case) {
	case VEILLE__V1__MUTATION__RECORD_ENCOUNTER:
		return m->encounter ? NULL : "encounter is NULL";
	case VEILLE__V1__MUTATION__RECORD_PERSON:
		return person_check_edit(m->person);
	case VEILLE__V1__MUTATION__RECORD_REQUEST:
		return m->request ? NULL : "request is NULL";
	case VEILLE__V1__MUTATION__RECORD_PROPOSAL:
		return m->proposal ? NULL : "proposal is NULL";
	case VEILLE__V1__MUTATION__RECORD_DECISION:
		return m->decision ? NULL : "decision is NULL";
	default:
		return "a mutation must hold an encounter, a person, a request, a proposal or "
		       "a decision";
	}
}

struct add_ctx {
	const uint8_t *device;
	Veille__V1__Mutation **muts;
	size_t n;
	uint64_t now_ms;
	struct veille_error *err;
};

/*
 * Packs m as counter with device id and, for a person, every field stamped *stamp; the
 * caller's pointers are put back before returning.
 */
static int pack_op(const struct add_ctx *c, Veille__V1__Mutation *m, const struct hlc *stamp,
		   uint8_t **out, size_t *len)
{
	Veille__V1__Hlc pb;
	Veille__V1__Hlc *saved[PERSON_MAX_FIELDS];
	ProtobufCBinaryData saved_dev = m->device_id;
	size_t nf = 0, i;
	int rc = 0;

	if (m->record_case == VEILLE__V1__MUTATION__RECORD_PERSON) {
		hlc_to_pb(stamp, &pb);
		nf = m->person->n_fields;
		for (i = 0; i < nf; i++) {
			saved[i] = m->person->fields[i]->hlc;
			m->person->fields[i]->hlc = &pb;
		}
	}
	m->device_id.data = (uint8_t *)c->device;
	m->device_id.len = OUTBOX_DEVICE_BYTES;
	*len = veille__v1__mutation__get_packed_size(m);
	*out = NULL;
	if (framed_size(*len) > OUTBOX_MAX_OP_BYTES)
		rc = errors_set(c->err, VEILLE_ETOOBIG,
				"an op of %zu bytes is over the %u of a push", *len,
				OUTBOX_MAX_OP_BYTES);
	else if (!(*out = malloc(*len ? *len : 1)))
		rc = errors_set(c->err, VEILLE_ENOMEM, "out of memory");
	else
		veille__v1__mutation__pack(m, *out);
	m->device_id = saved_dev;
	for (i = 0; i < nf; i++)
		m->person->fields[i]->hlc = saved[i];
	return rc;
}

static int add_txn(struct local_txn *t, void *arg)
{
	struct add_ctx *c = arg;
	uint64_t counter;
	struct hlc clock;
	int rc, ticked = 0;

	if ((rc = local_get_u64(t, LOCAL_META_OP_COUNTER, &counter, NULL)) ||
	    (rc = replica_clock_load(t, &clock)))
		return rc;
	for (size_t i = 0; i < c->n; i++) {
		Veille__V1__Mutation *m = c->muts[i];
		uint8_t key[8], *buf = NULL;
		size_t len = 0;

		if (m->record_case == VEILLE__V1__MUTATION__RECORD_PERSON) {
			/* One edit, one tick: its fields share the stamp. */
			hlc_tick(&clock, c->now_ms, c->device);
			ticked = 1;
		}
		m->op_counter = ++counter;
		if ((rc = pack_op(c, m, &clock, &buf, &len)))
			return rc;
		local_be64_put(key, counter);
		rc = local_put(t, LOCAL_OUTBOX, key, sizeof key, buf, len, 1);
		free(buf);
		if (rc)
			return rc;
	}
	if ((rc = local_put_u64(t, LOCAL_META_OP_COUNTER, counter)))
		return rc;
	return ticked ? replica_clock_save(t, &clock) : 0;
}

int outbox_add(struct local *l, const uint8_t device[OUTBOX_DEVICE_BYTES],
	       Veille__V1__Mutation **muts, size_t n, uint64_t now_ms, struct veille_error *err)
{
	struct add_ctx c = { device, muts, n, now_ms, err };
	const char *why;
	int rc;

	if (!muts || n == 0 || n > VEILLE_MAX_PUSH)
		return errors_set(err, VEILLE_EARG, "outbox: 1 to %d mutations at a time",
				  VEILLE_MAX_PUSH);
	for (size_t i = 0; i < n; i++)
		if ((why = unfit(muts[i])))
			return errors_set(err, VEILLE_EARG, "mutation %zu: %s", i, why);
	rc = local_write(l, add_txn, &c, err);
	if (rc)
		for (size_t i = 0; i < n; i++)
			muts[i]->op_counter = 0;
	return rc;
}

struct reserve_ctx {
	size_t n;
	uint64_t first;
	struct veille_error *err;
};

static int reserve_txn(struct local_txn *t, void *arg)
{
	struct reserve_ctx *c = arg;
	uint64_t counter;
	size_t queued;
	int rc;

	if ((rc = local_count(t, LOCAL_OUTBOX, &queued)) ||
	    (rc = local_get_u64(t, LOCAL_META_OP_COUNTER, &counter, NULL)))
		return rc;
	if (queued)
		return errors_set(c->err, VEILLE_EARG,
				  "the outbox holds %zu ops: sync them before pushing new ones "
				  "directly", queued);
	c->first = counter + 1;
	return local_put_u64(t, LOCAL_META_OP_COUNTER, counter + c->n);
}

int outbox_reserve(struct local *l, size_t n, uint64_t *first, struct veille_error *err)
{
	struct reserve_ctx c = { n, 0, err };
	int rc = local_write(l, reserve_txn, &c, err);

	if (rc == 0)
		*first = c.first;
	return rc;
}

struct count_ctx {
	size_t ops, problems;
};

static int count_txn(struct local_txn *t, void *arg)
{
	struct count_ctx *c = arg;
	int rc = local_count(t, LOCAL_OUTBOX, &c->ops);

	return rc ? rc : local_count(t, LOCAL_PROBLEMS, &c->problems);
}

int outbox_count(struct local *l, size_t *ops, size_t *problems, struct veille_error *err)
{
	struct count_ctx c = { 0, 0 };
	int rc = local_read(l, count_txn, &c, err);

	if (rc == 0) {
		if (ops)
			*ops = c.ops;
		if (problems)
			*problems = c.problems;
	}
	return rc;
}

struct batch_ctx {
	struct outbox_batch *b;
	size_t max_ops, max_bytes;
	struct veille_error *err;
};

static int take(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
	struct batch_ctx *c = arg;
	struct outbox_batch *b = c->b;
	size_t size = framed_size(vlen);
	Veille__V1__Mutation *m;

	if (b->n == c->max_ops || (b->n && b->bytes + size > c->max_bytes))
		return LOCAL_STOP;
	m = veille__v1__mutation__unpack(NULL, vlen, val);
	if (!m || klen != 8 || local_be64_get(key) != m->op_counter) {
		if (m)
			veille__v1__mutation__free_unpacked(m, NULL);
		return errors_set(c->err, VEILLE_ECORRUPT,
				  "local store: an outbox op is malformed");
	}
	b->ops[b->n++] = m;
	b->bytes += size;
	return 0;
}

static int batch_txn(struct local_txn *t, void *arg)
{
	return local_each(t, LOCAL_OUTBOX, NULL, 0, take, arg);
}

int outbox_next_batch(struct local *l, size_t max_ops, size_t max_bytes, struct outbox_batch *b,
		      struct veille_error *err)
{
	struct batch_ctx c = { b, max_ops, max_bytes, err };

	b->n = 0;
	b->bytes = 0;
	if (c.max_ops == 0 || c.max_ops > OUTBOX_MAX_BATCH_OPS)
		c.max_ops = OUTBOX_MAX_BATCH_OPS;
	return local_read(l, batch_txn, &c, err);
}

void outbox_batch_free(struct outbox_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		veille__v1__mutation__free_unpacked(b->ops[i], NULL);
	b->n = 0;
	b->bytes = 0;
}

struct settle_ctx {
	const struct outbox_batch *b;
	const struct veille_op_result *results;
	uint64_t now_ms;
	struct veille_error *err;
};

static int keep_problem(struct local_txn *t, const struct settle_ctx *c, size_t i,
			const uint8_t key[8])
{
	Veille__Client__V1__Problem p = VEILLE__CLIENT__V1__PROBLEM__INIT;
	Veille__V1__OpResult r = VEILLE__V1__OP_RESULT__INIT;
	const struct veille_op_result *res = &c->results[i];
	uint8_t *buf;
	size_t len;
	int rc;

	r.op_counter = res->op_counter;
	r.status = (Veille__V1__OpStatus)res->status;
	r.version = res->version;
	r.code = (Veille__V1__ErrorCode)res->code;
	r.reason = (char *)res->reason;
	p.op = c->b->ops[i];
	p.result = &r;
	p.at_ms = c->now_ms;
	len = veille__client__v1__problem__get_packed_size(&p);
	buf = malloc(len ? len : 1);
	if (!buf)
		return errors_set(c->err, VEILLE_ENOMEM, "out of memory");
	veille__client__v1__problem__pack(&p, buf);
	rc = local_put(t, LOCAL_PROBLEMS, key, 8, buf, len, 0);
	free(buf);
	return rc;
}

static int settle_txn(struct local_txn *t, void *arg)
{
	struct settle_ctx *c = arg;
	int rc;

	for (size_t i = 0; i < c->b->n; i++) {
		const Veille__V1__Mutation *op = c->b->ops[i];
		uint8_t key[8];

		local_be64_put(key, op->op_counter);
		if ((rc = local_del(t, LOCAL_OUTBOX, key, sizeof key)))
			return rc;
		switch (c->results[i].status) {
		case VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED:
		case VEILLE__V1__OP_STATUS__OP_STATUS_DUPLICATE:
			if (op->record_case == VEILLE__V1__MUTATION__RECORD_PERSON &&
			    (rc = replica_merge_edit(t, op->record_id, op->person)))
				return rc;
			break;
		default: /* CONFLICT, REJECTED, or a status newer than this client */
			if ((rc = keep_problem(t, c, i, key)))
				return rc;
		}
	}
	return 0;
}

int outbox_settle(struct local *l, const struct outbox_batch *b,
		  const struct veille_op_result *results, uint64_t now_ms,
		  struct veille_error *err)
{
	struct settle_ctx c = { b, results, now_ms, err };

	return local_write(l, settle_txn, &c, err);
}

struct problems_ctx {
	size_t max, seen;
	int (*fn)(const Veille__Client__V1__Problem *p, void *arg);
	void *arg;
	int stopped;
};

static int each_problem(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
			void *arg)
{
	struct problems_ctx *c = arg;
	Veille__Client__V1__Problem *p;
	int rc;

	(void)key;
	(void)klen;
	if (c->max && c->seen == c->max)
		return LOCAL_STOP;
	p = veille__client__v1__problem__unpack(NULL, vlen, val);
	if (!p)
		return VEILLE_ECORRUPT;
	c->seen++;
	rc = c->fn(p, c->arg);
	veille__client__v1__problem__free_unpacked(p, NULL);
	if (rc) {
		c->stopped = rc;
		return LOCAL_STOP;
	}
	return 0;
}

static int problems_txn(struct local_txn *t, void *arg)
{
	return local_each(t, LOCAL_PROBLEMS, NULL, 0, each_problem, arg);
}

int outbox_problems(struct local *l, size_t max,
		    int (*fn)(const Veille__Client__V1__Problem *p, void *arg), void *arg,
		    struct veille_error *err)
{
	struct problems_ctx c = { max, 0, fn, arg, 0 };
	int rc = local_read(l, problems_txn, &c, err);

	return rc ? rc : c.stopped;
}

static int clear_txn(struct local_txn *t, void *arg)
{
	(void)arg;
	return local_clear(t, LOCAL_PROBLEMS);
}

int outbox_problems_clear(struct local *l, struct veille_error *err)
{
	return local_write(l, clear_txn, NULL, err);
}
