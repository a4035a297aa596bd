/*
 * offline: the part of libveille's API (veille.h) that works without the network: queueing
 * ops in the outbox, reading what the device holds, the problems the server reported. Each
 * call is a thin layer over outbox.c and replica.c that checks the client and fills
 * veille_last_error().
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "errors.h"
#include "outbox.h"
#include "replica.h"

int veille_outbox_add_many(struct veille_client *c, Veille__V1__Mutation **muts, size_t n)
{
	int rc;

	errors_clear(&c->last_error);
	if ((rc = client_need_local(c)))
		return rc;
	return outbox_add(c->local, c->id.device_id, muts, n, client_wall_ms(), &c->last_error);
}

int veille_outbox_add(struct veille_client *c, Veille__V1__Mutation *m)
{
	return veille_outbox_add_many(c, &m, 1);
}

int veille_outbox_count(struct veille_client *c, size_t *n)
{
	int rc;

	errors_clear(&c->last_error);
	if (!n)
		return errors_set(&c->last_error, VEILLE_EARG, "no place for the count");
	if ((rc = client_need_local(c)))
		return rc;
	return outbox_count(c->local, n, NULL, &c->last_error);
}

int veille_record_get(struct veille_client *c, const char *record_id, Veille__V1__Change **out,
		      size_t *pending)
{
	size_t n = 0;
	int rc;

	errors_clear(&c->last_error);
	if (!out || !record_id)
		return errors_set(&c->last_error, VEILLE_EARG, "record id and out are required");
	*out = NULL;
	if ((rc = client_need_local(c)) ||
	    (rc = replica_get(c->local, record_id, out, &n, &c->last_error)))
		return rc;
	if (pending)
		*pending = n;
	if (!*out)
		return errors_set(&c->last_error, VEILLE_ENOTFOUND,
				  "nothing held or queued for record %.64s", record_id);
	return 0;
}

void veille_change_free(Veille__V1__Change *change)
{
	if (change)
		veille__v1__change__free_unpacked(change, NULL);
}

struct problems_ctx {
	int (*fn)(const struct veille_problem *p, const Veille__V1__Mutation *op, void *arg);
	void *arg;
};

static int each_problem(const Veille__Client__V1__Problem *pb, void *arg)
{
	struct problems_ctx *ctx = arg;
	static const Veille__V1__Mutation empty = VEILLE__V1__MUTATION__INIT;
	const Veille__V1__Mutation *op = pb->op ? pb->op : &empty;
	struct veille_problem p;

	memset(&p, 0, sizeof p);
	p.op_counter = op->op_counter;
	client_copy_text(p.record_id, sizeof p.record_id, op->record_id);
	p.record_kind = (int)op->record_case;
	p.at_ms = pb->at_ms;
	if (pb->result) {
		p.result.op_counter = pb->result->op_counter;
		p.result.status = (int)pb->result->status;
		p.result.version = pb->result->version;
		p.result.code = (int)pb->result->code;
		client_copy_text(p.result.reason, sizeof p.result.reason, pb->result->reason);
	}
	return ctx->fn(&p, op, ctx->arg);
}

int veille_problems(struct veille_client *c, size_t max,
		    int (*fn)(const struct veille_problem *p, const Veille__V1__Mutation *op,
			      void *arg),
		    void *arg)
{
	struct problems_ctx ctx = { fn, arg };
	int rc;

	errors_clear(&c->last_error);
	if (!fn)
		return errors_set(&c->last_error, VEILLE_EARG, "no function to call");
	if ((rc = client_need_local(c)))
		return rc;
	return outbox_problems(c->local, max, each_problem, &ctx, &c->last_error);
}

int veille_problems_clear(struct veille_client *c)
{
	int rc;

	errors_clear(&c->last_error);
	if ((rc = client_need_local(c)))
		return rc;
	return outbox_problems_clear(c->local, &c->last_error);
}
