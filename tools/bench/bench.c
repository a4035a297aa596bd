/*
 * veille-bench: load benchmarks of a running veilled, through libveille (issue 3).
 *
 *   veille-bench sync --url ws://127.0.0.1:PORT/sync [options] DIR[=PAIRING_CODE]...
 *
 * Design: one pthread per device state directory, each with its own libveille client and its
 * own connection (the library is not thread-safe; one client per thread is its contract). The
 * threads connect first and wait at a start gate, so connection and authentication stay off the
 * clock; then each pushes its share of the encounters in batches, timing every veille_push
 * (the acknowledgement latency a device sees: from handing the batch to the library to holding
 * its PushResult, which the server sends only after its group commit reached the disk). Then
 * the first device, on a fresh connection, pulls everything from cursor 0 until has_more is
 * false. Figures go to stdout as key=value lines; progress and errors to stderr.
 *
 * Everything is bounded: a fixed number of ops and clients, a timeout on every network wait
 * (--timeout-ms, passed to libveille), a bounded number of retries of a push the server refused
 * as busy, and a bounded number of pull pages. Any failure ends the run with exit status 1.
 *
 * Encounters look like real ones, about 1 KiB on the wire: a working note of ~880 bytes of
 * French (accents make it UTF-8, not ASCII), needs, services, an area and a geohash, for a
 * pseudonymous person drawn from a pool (several encounters per person, as in the field).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "loadstat.h"
#include "veille.h"
#include "veille/v1/records.pb-c.h"
#include "veille/v1/sync.pb-c.h"

#define MAX_CLIENTS 256
#define MAX_OPS 10000000ul
#define NOTE_TARGET 880          /* bytes of note per encounter: ~1 KiB per encoded mutation */
#define NOTE_POOL 64             /* distinct notes, drawn at random per encounter */
#define MAX_BUSY_RETRIES 20      /* pushes refused with UNAVAILABLE, per push */
#define DEFAULT_TIMEOUT_MS 60000

enum { PHASE_PUSH = 1, PHASE_PULL = 2 };

struct options {
	const char *url;
	unsigned long ops;
	unsigned long batch;
	unsigned long pull_limit;
	unsigned long persons;
	unsigned long seed;
	long server_pid;
	int timeout_ms;
	int phases;               /* PHASE_* */
	int device;               /* --mode device: the outbox and the local store, as veille sync */
	int n_dirs;
	char *dirs[MAX_CLIENTS];
	const char *codes[MAX_CLIENTS]; /* NULL: already enrolled */
};

/* Shared, read-only once the threads start. */
struct corpus {
	char *notes[NOTE_POOL];
	char (*persons)[33];
	unsigned long n_persons;
	int64_t base_ms;
};

struct pusher {
	pthread_t tid;
	int index;
	const struct options *opt;
	const struct corpus *corpus;
	struct gate *start;
	unsigned long ops;        /* this thread's share */
	uint64_t rng;
	/* results */
	double *lat_ms;           /* one per push */
	size_t n_lat;
	unsigned long applied;
	unsigned long retries;
	uint64_t packed_bytes;    /* of the mutations sent, to report the record size */
	int failed;
};

/* Where the client threads wait, connected, until every one is ready; then all start at
 * once (go = 1), or all give up (go = -1) if one could not be set up. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ready;
	int go;
};

static atomic_int abort_run;

/* A thread is ready (connected or failed); returns whether to go. */
static int gate_arrive(struct gate *g)
{
	int go;

	pthread_mutex_lock(&g->mu);
	g->ready++;
	pthread_cond_broadcast(&g->cv);
	while (g->go == 0)
		pthread_cond_wait(&g->cv, &g->mu);
	go = g->go > 0;
	pthread_mutex_unlock(&g->mu);
	return go;
}

/* Waits for n threads to be ready, then opens the gate (go) or closes it for good. */
static void gate_open(struct gate *g, int n, int go)
{
	pthread_mutex_lock(&g->mu);
	while (go > 0 && g->ready < n)
		pthread_cond_wait(&g->cv, &g->mu);
	g->go = go > 0 ? 1 : -1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* ---- small helpers ---- */

static void warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("veille-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static unsigned long pick(uint64_t *s, unsigned long n)
{
	return (unsigned long)(xorshift(s) % n);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A field of /proc/pid/io ("write_bytes": bytes the process caused to be written to storage),
 * or -1 if /proc cannot tell (another user's process, no task I/O accounting). */
static long long proc_io(long pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/io", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n-1]. */
static double percentile(const double *v, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* ---- the corpus: realistic notes, persons ---- */

/* Sentences of the kind a maraude team writes; no real person in them. */
static const char *const sentences[] = {
	"Rencontré près de la gare de l'Est, sous l'auvent du parking, vers 22 h 30.",
	"Monsieur dort sous une tente depuis trois semaines, il dit ne plus appeler le 115 faute de place.",
	"Madame est accompagnée de son chien, elle refuse les hébergements qui n'acceptent pas les animaux.",
	"Il a perdu ses papiers lors de l'évacuation du campement ; orientation vers l'accueil de jour pour la domiciliation.",
	"Échange long et calme, il parle un peu français, surtout arabe ; il souhaite voir un médecin pour son pied.",
	"Plaie au pied gauche non soignée, proposition d'accompagnement à la PASS de l'hôpital demain matin.",
	"Distribution d'un café, d'un sandwich et d'un kit d'hygiène ; il a accepté un sac de couchage neuf.",
	"Elle dit avoir une demande de logement social en cours, à vérifier avec l'assistante sociale du secteur.",
	"Le couple est arrivé il y a deux mois, ils dorment dans leur voiture, stationnée derrière le gymnase.",
	"Pas d'ouverture de droits à ce jour : ni AME, ni RSA. À revoir avec le CCAS pour l'aide médicale d'État.",
	"Il a travaillé comme maçon, cherche des missions d'intérim ; information donnée sur l'agence solidaire.",
	"Signalement fait au SIAO pour une mise à l'abri ; réponse attendue, rappeler le 115 demain à 9 h.",
	"Très fatigué ce soir, peu de mots ; nous repasserons jeudi avec l'infirmière de l'équipe.",
	"Elle préfère rester sur le secteur, où elle connaît les commerçants qui l'aident ; lien de confiance à garder.",
	"Il boit beaucoup moins depuis l'hiver, il en est fier ; il demande des nouvelles de l'accueil de nuit.",
	"Accepte d'être orienté vers le centre de santé ; rendez-vous pris pour lundi 14 h, à accompagner.",
	"Nuit froide annoncée : plan grand froid actif, proposition de gymnase refusée, couverture de survie donnée.",
	"Jeune homme de moins de 25 ans, sorti de l'aide sociale à l'enfance l'an dernier ; orienter vers la mission locale.",
	"Famille avec deux enfants scolarisés à l'école du quartier, hébergée chez un tiers jusqu'à vendredi.",
	"Il souhaite récupérer ses affaires stockées à la bagagerie, le badge a expiré ; à renouveler.",
};

/* A note of at most NOTE_TARGET bytes, built from whole sentences. */
static char *make_note(uint64_t *rng)
{
	size_t n_sent = sizeof sentences / sizeof sentences[0], len = 0, misses = 0;
	char *note = malloc(NOTE_TARGET + 1);

	if (!note)
		return NULL;
	note[0] = '\0';
	while (misses < 8) {
		const char *s = sentences[pick(rng, n_sent)];
		size_t sl = strlen(s) + (len ? 1 : 0);

		if (len + sl > NOTE_TARGET) {
			misses++;
			continue;
		}
		if (len)
			note[len++] = ' ';
		memcpy(note + len, s, strlen(s) + 1);
		len += strlen(s);
	}
	/* Pad with a closing remark up to the target so every record weighs about the same. */
	{
		static const char pad[] = " Suite au prochain passage de l'équipe.";
		size_t room = NOTE_TARGET - len;

		if (room >= sizeof pad - 1) {
			memcpy(note + len, pad, sizeof pad);
			len += sizeof pad - 1;
		}
	}
	return note;
}

static int corpus_init(struct corpus *c, const struct options *opt)
{
	uint64_t rng = opt->seed * 2654435761u + 1;
	struct timespec ts;

	memset(c, 0, sizeof *c);
	for (int i = 0; i < NOTE_POOL; i++)
		if (!(c->notes[i] = make_note(&rng)))
			return -1;
	c->n_persons = opt->persons;
	c->persons = calloc(c->n_persons, sizeof *c->persons);
	if (!c->persons)
		return -1;
	for (unsigned long i = 0; i < c->n_persons; i++)
		if (veille_new_record_id(c->persons[i]) != VEILLE_OK)
			return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	c->base_ms = (int64_t)ts.tv_sec * 1000 - 30ll * 24 * 3600 * 1000; /* the last month */
	return 0;
}

static void corpus_free(struct corpus *c)
{
	for (int i = 0; i < NOTE_POOL; i++)
		free(c->notes[i]);
	free(c->persons);
}

/* ---- push ---- */

static const char *const areas[] = {
	"Paris 10e", "Paris 18e", "Paris 19e", "Paris 20e", "Paris 11e", "Paris 12e", "Paris 13e",
	"Paris 14e", "Gare du Nord", "Bois de Vincennes",
};
static const char *const geohashes[] = {
	"u09wj", "u09wn", "u09wq", "u09ty", "u09tv", "u09tu", "u09tg", "u09tf",
};

/* One push worth of encounters, rebuilt in place for each batch. */
struct batch {
	Veille__V1__Mutation **ptrs;
	Veille__V1__Mutation *muts;
	Veille__V1__Encounter *encs;
	Veille__V1__Location *locs;
	Veille__V1__Need (*needs)[3];
	Veille__V1__Service (*services)[3];
	char (*ids)[33];
	struct veille_op_result *results;
};

static void batch_free(struct batch *b)
{
	free(b->ptrs);
	free(b->muts);
	free(b->encs);
	free(b->locs);
	free(b->needs);
	free(b->services);
	free(b->ids);
	free(b->results);
}

static int batch_alloc(struct batch *b, size_t n)
{
	b->ptrs = calloc(n, sizeof *b->ptrs);
	b->muts = calloc(n, sizeof *b->muts);
	b->encs = calloc(n, sizeof *b->encs);
	b->locs = calloc(n, sizeof *b->locs);
	b->needs = calloc(n, sizeof *b->needs);
	b->services = calloc(n, sizeof *b->services);
	b->ids = calloc(n, sizeof *b->ids);
	b->results = calloc(n, sizeof *b->results);
	if (!b->ptrs || !b->muts || !b->encs || !b->locs || !b->needs || !b->services || !b->ids ||
	    !b->results) {
		batch_free(b);
		return -1;
	}
	return 0;
}

static int batch_fill(struct batch *b, size_t n, const struct corpus *c, uint64_t *rng,
		      uint64_t *packed)
{
	for (size_t i = 0; i < n; i++) {
		Veille__V1__Mutation *m = &b->muts[i];
		Veille__V1__Encounter *e = &b->encs[i];
		Veille__V1__Location *l = &b->locs[i];

		if (veille_new_record_id(b->ids[i]) != VEILLE_OK)
			return -1;
		veille__v1__location__init(l);
		l->area = (char *)areas[pick(rng, sizeof areas / sizeof areas[0])];
		l->geohash = (char *)geohashes[pick(rng, sizeof geohashes / sizeof geohashes[0])];
		veille__v1__encounter__init(e);
		e->person_id = c->persons[pick(rng, c->n_persons)];
		e->occurred_at_ms = c->base_ms + (int64_t)pick(rng, 30ul * 24 * 3600 * 1000);
		e->location = l;
		e->n_needs = 1 + pick(rng, 3);
		for (size_t k = 0; k < e->n_needs; k++)
			b->needs[i][k] = (Veille__V1__Need)(1 + pick(rng, 8));
		e->needs = b->needs[i];
		e->n_services = 1 + pick(rng, 3);
		for (size_t k = 0; k < e->n_services; k++)
			b->services[i][k] = (Veille__V1__Service)(1 + pick(rng, 11));
		e->services = b->services[i];
		e->note = c->notes[pick(rng, NOTE_POOL)];
		veille__v1__mutation__init(m);
		m->record_id = b->ids[i];
		m->base_version = 0;
		m->record_case = VEILLE__V1__MUTATION__RECORD_ENCOUNTER;
		m->encounter = e;
		b->ptrs[i] = m;
		/* op_counter is 0 here (libveille assigns it): count the 4 bytes it will take. */
		*packed += veille__v1__mutation__get_packed_size(m) + 4;
	}
	return 0;
}

/* One veille_push, retried while the server says it is busy. Records the latency of the push
 * that got its answer (a retried push is one acknowledgement, as a device sees it). */
static int push_once(struct pusher *p, struct veille_client *vc, struct batch *b, size_t n)
{
	double t0 = load_now_s();
	int rc;

	for (int tries = 0;; tries++) {
		rc = veille_push(vc, b->ptrs, n, b->results);
		if (rc == VEILLE_ESERVER &&
		    veille_last_error(vc)->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE &&
		    tries < MAX_BUSY_RETRIES && !atomic_load(&abort_run)) {
			uint32_t ms = veille_last_error(vc)->retry_after_ms;

			p->retries++;
			usleep((useconds_t)(ms ? ms : 100) * 1000);
			continue;
		}
		break;
	}
	if (rc != VEILLE_OK) {
		warnx("client %d: push: %s: %s", p->index, veille_strerror(rc),
		      veille_last_error(vc)->message);
		return -1;
	}
	p->lat_ms[p->n_lat++] = (load_now_s() - t0) * 1000.0;
	for (size_t i = 0; i < n; i++) {
		if (b->results[i].status != VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED) {
			warnx("client %d: op %" PRIu64 " not applied: status %d code %s (%s)",
			      p->index, b->results[i].op_counter, b->results[i].status,
			      veille_error_code_name(b->results[i].code), b->results[i].reason);
			return -1;
		}
		p->applied++;
	}
	return 0;
}

/* Device mode, off the clock: the thread's share goes into its outbox, as `veille encounter
 * add` leaves it, in local transactions of one batch each. */
static int queue_share(struct pusher *p, struct veille_client *vc, struct batch *b)
{
	for (unsigned long left = p->ops; left > 0;) {
		size_t n = left < p->opt->batch ? left : p->opt->batch;
		int rc;

		if (batch_fill(b, n, p->corpus, &p->rng, &p->packed_bytes) != 0)
			return -1;
		if ((rc = veille_outbox_add_many(vc, b->ptrs, n)) != VEILLE_OK) {
			warnx("client %d: queue: %s: %s", p->index, veille_strerror(rc),
			      veille_last_error(vc)->message);
			return -1;
		}
		left -= n;
	}
	return 0;
}

static void count_result(const Veille__V1__Mutation *op, const struct veille_op_result *r,
			 void *arg)
{
	struct pusher *p = arg;

	(void)op;
	if (r->status == VEILLE__V1__OP_STATUS__OP_STATUS_APPLIED)
		p->applied++;
}

/* Device mode, on the clock: the outbox goes out as `veille sync` pushes it (batches of at
 * most VEILLE_MAX_PUSH ops and 512 KiB, each settled in the local store once its results are
 * in). Retried while the server says it is busy; every op must end applied. */
static int push_outbox(struct pusher *p, struct veille_client *vc)
{
	struct veille_sync_opts so = { .what = VEILLE_SYNC_PUSH, .on_result = count_result,
				       .arg = p };
	struct veille_sync_stats st;
	int rc;

	for (int tries = 0;; tries++) {
		rc = veille_sync_ex(vc, &so, &st);
		if (rc == VEILLE_ESERVER &&
		    veille_last_error(vc)->code == VEILLE__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE &&
		    tries < MAX_BUSY_RETRIES && !atomic_load(&abort_run)) {
			uint32_t ms = veille_last_error(vc)->retry_after_ms;

			p->retries++;
			usleep((useconds_t)(ms ? ms : 100) * 1000);
			continue;
		}
		break;
	}
	if (rc != VEILLE_OK) {
		warnx("client %d: sync: %s: %s", p->index, veille_strerror(rc),
		      veille_last_error(vc)->message);
		return -1;
	}
	if (p->applied != p->ops) {
		warnx("client %d: %lu of %lu ops applied", p->index, p->applied, p->ops);
		return -1;
	}
	return 0;
}

static void *pusher_main(void *arg)
{
	struct pusher *p = arg;
	const struct options *opt = p->opt;
	struct veille_client *vc = NULL;
	struct veille_error err = {0};
	struct batch b = {0};
	unsigned long left = p->ops;
	int rc;

	p->failed = 1;
	if ((rc = veille_open(&vc, opt->dirs[p->index], &err)) != VEILLE_OK) {
		warnx("client %d: open %s: %s: %s", p->index, opt->dirs[p->index],
		      veille_strerror(rc), err.message);
		goto ready;
	}
	veille_set_timeout(vc, opt->timeout_ms);
	if ((rc = veille_connect(vc, opt->timeout_ms)) != VEILLE_OK) {
		warnx("client %d: connect: %s: %s", p->index, veille_strerror(rc),
		      veille_last_error(vc)->message);
		goto ready;
	}
	if (batch_alloc(&b, opt->batch) != 0) {
		warnx("client %d: out of memory", p->index);
		goto ready;
	}
	if (opt->device && queue_share(p, vc, &b) != 0)
		goto ready;
	p->failed = 0;
ready:
	if (p->failed)
		atomic_store(&abort_run, 1);
	if (!gate_arrive(p->start) || p->failed || atomic_load(&abort_run))
		goto out;
	if (opt->device) {
		if (push_outbox(p, vc) != 0) {
			p->failed = 1;
			atomic_store(&abort_run, 1);
		}
		goto out;
	}
	while (left > 0 && !atomic_load(&abort_run)) {
		size_t n = left < opt->batch ? left : opt->batch;

		if (batch_fill(&b, n, p->corpus, &p->rng, &p->packed_bytes) != 0 ||
		    push_once(p, vc, &b, n) != 0) {
			p->failed = 1;
			atomic_store(&abort_run, 1);
			break;
		}
		left -= n;
	}
out:
	batch_free(&b);
	veille_close(vc);
	return NULL;
}

/* ---- pull ---- */

struct pull_count {
	unsigned long records;
	uint64_t note_bytes;
};

static int on_change(const Veille__V1__Change *ch, void *arg)
{
	struct pull_count *pc = arg;

	pc->records++;
	if (ch->record_case == VEILLE__V1__CHANGE__RECORD_ENCOUNTER && ch->encounter->note)
		pc->note_bytes += strlen(ch->encounter->note);
	return 0;
}

/* ---- enrolment ---- */

static int enrol_all(const struct options *opt)
{
	for (int i = 0; i < opt->n_dirs; i++) {
		struct veille_client *vc = NULL;
		struct veille_error err = {0};
		struct veille_info info;
		char label[64];
		int rc;

		if (!opt->codes[i])
			continue;
		if ((rc = veille_open(&vc, opt->dirs[i], &err)) != VEILLE_OK) {
			warnx("open %s: %s: %s", opt->dirs[i], veille_strerror(rc), err.message);
			return -1;
		}
		veille_info(vc, &info);
		if (!info.enrolled) {
			veille_set_timeout(vc, opt->timeout_ms);
			snprintf(label, sizeof label, "bench device %d", i);
			rc = veille_enrol(vc, opt->url, opt->codes[i], label, NULL);
			if (rc != VEILLE_OK) {
				warnx("enrol %s: %s: %s", opt->dirs[i], veille_strerror(rc),
				      veille_last_error(vc)->message);
				veille_close(vc);
				return -1;
			}
		}
		veille_close(vc);
	}
	return 0;
}

/* ---- sync ---- */

static void sync_usage(FILE *f)
{
	fprintf(f,
		"usage: veille-bench sync --url ws://HOST:PORT/sync [options] DIR[=PAIRING_CODE]...\n"
		"  One client thread per device state directory DIR (enrolled first with\n"
		"  PAIRING_CODE if given and not yet enrolled); all devices must be of one\n"
		"  structure, so that the first one can pull everything the others pushed.\n"
		"  --ops N           encounters to push in all (default 100000)\n"
		"  --batch N         mutations per push, 1 to %d (default %d)\n"
		"  --pull-limit N    changes asked per pull, 1 to %d (default %d)\n"
		"  --persons N       distinct persons the encounters are about (default 2000)\n"
		"  --server-pid PID  read the server's CPU time and memory from /proc\n"
		"  --timeout-ms MS   bound of every network wait (default %d)\n"
		"  --seed N          seed of the generated content (default 1)\n"
		"  --phase P         push, pull or both (default both); pull alone expects at\n"
		"                    least --ops records from an earlier push-only run\n"
		"  --mode M          wire (default): pushes built in memory go straight out, the\n"
		"                    pull is decoded and dropped: what the server sustains;\n"
		"                    device: each device's share is queued in its outbox before\n"
		"                    the clock starts, then pushed by veille_sync_ex, and the pull\n"
		"                    stores every page and the cursor in the local store, as\n"
		"                    `veille sync` does: what a device sees\n",
		VEILLE_MAX_PUSH, VEILLE_MAX_PUSH, VEILLE_MAX_PULL_LIMIT, VEILLE_MAX_PULL_LIMIT,
		DEFAULT_TIMEOUT_MS);
}

static int sync_parse(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{"url", required_argument, NULL, 'u'},
		{"ops", required_argument, NULL, 'n'},
		{"batch", required_argument, NULL, 'b'},
		{"pull-limit", required_argument, NULL, 'l'},
		{"persons", required_argument, NULL, 'P'},
		{"server-pid", required_argument, NULL, 'p'},
		{"timeout-ms", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, 's'},
		{"phase", required_argument, NULL, 'f'},
		{"mode", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned long v;
	int c;

	memset(opt, 0, sizeof *opt);
	opt->ops = 100000;
	opt->batch = VEILLE_MAX_PUSH;
	opt->pull_limit = VEILLE_MAX_PULL_LIMIT;
	opt->persons = 2000;
	opt->seed = 1;
	opt->timeout_ms = DEFAULT_TIMEOUT_MS;
	opt->phases = PHASE_PUSH | PHASE_PULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': opt->url = optarg; break;
		case 'n':
			if (parse_ulong(optarg, 1, MAX_OPS, &opt->ops))
				goto bad;
			break;
		case 'b':
			if (parse_ulong(optarg, 1, VEILLE_MAX_PUSH, &opt->batch))
				goto bad;
			break;
		case 'l':
			if (parse_ulong(optarg, 1, VEILLE_MAX_PULL_LIMIT, &opt->pull_limit))
				goto bad;
			break;
		case 'P':
			if (parse_ulong(optarg, 1, 10000000, &opt->persons))
				goto bad;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, 1ul << 30, &v))
				goto bad;
			opt->server_pid = (long)v;
			break;
		case 't':
			if (parse_ulong(optarg, 1, 3600000, &v))
				goto bad;
			opt->timeout_ms = (int)v;
			break;
		case 's':
			if (parse_ulong(optarg, 0, 1ul << 31, &opt->seed))
				goto bad;
			break;
		case 'f':
			if (!strcmp(optarg, "push"))
				opt->phases = PHASE_PUSH;
			else if (!strcmp(optarg, "pull"))
				opt->phases = PHASE_PULL;
			else if (!strcmp(optarg, "both"))
				opt->phases = PHASE_PUSH | PHASE_PULL;
			else
				goto bad;
			break;
		case 'm':
			if (!strcmp(optarg, "device"))
				opt->device = 1;
			else if (strcmp(optarg, "wire"))
				goto bad;
			break;
		case 'h': sync_usage(stdout); return 1;
		default: sync_usage(stderr); return -1;
		}
	}
	if (!opt->url || optind >= argc) {
		warnx("sync: --url and at least one DIR are required");
		sync_usage(stderr);
		return -1;
	}
	if (argc - optind > MAX_CLIENTS) {
		warnx("sync: at most %d devices", MAX_CLIENTS);
		return -1;
	}
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		opt->dirs[opt->n_dirs] = argv[i];
		if (eq) {
			*eq = '\0';
			opt->codes[opt->n_dirs] = eq + 1;
		}
		opt->n_dirs++;
	}
	return 0;
bad:
	warnx("sync: bad value '%s'", optarg);
	sync_usage(stderr);
	return -1;
}

/* The push phase: every device pushes its share; prints the push_* figures. */
static int run_push(const struct options *opt, const struct corpus *corpus,
		    unsigned long *applied_out)
{
	struct gate start = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
	struct pusher *ps = calloc(MAX_CLIENTS, sizeof *ps);
	size_t n_lat = 0, max_pushes = opt->ops / opt->batch + (size_t)opt->n_dirs + 1;
	double *lat = calloc(max_pushes, sizeof *lat), t0, t1, cpu0, cpu1, self0, self1;
	long long wb0, wb1;
	unsigned long applied = 0, retries = 0;
	uint64_t packed = 0;
	int started = 0, status = 1;

	if (!ps || !lat) {
		warnx("out of memory");
		goto out;
	}
	for (int i = 0; i < opt->n_dirs; i++) {
		struct pusher *p = &ps[i];

		p->index = i;
		p->opt = opt;
		p->corpus = corpus;
		p->start = &start;
		p->ops = opt->ops / (unsigned long)opt->n_dirs +
			 ((unsigned long)i < opt->ops % (unsigned long)opt->n_dirs ? 1 : 0);
		p->rng = (opt->seed + 1) * 0x9e3779b97f4a7c15ull + (uint64_t)i * 7919 + 1;
		p->lat_ms = calloc(p->ops / opt->batch + 2, sizeof *p->lat_ms);
		if (!p->lat_ms || pthread_create(&p->tid, NULL, pusher_main, p) != 0) {
			warnx("cannot start client thread %d", i);
			atomic_store(&abort_run, 1);
			gate_open(&start, started, -1);
			goto out;
		}
		started = i + 1;
	}
	/* Every thread is connected (or gave up): start the clock and let them go. */
	gate_open(&start, started, 1);
	wb0 = proc_io(opt->server_pid, "write_bytes");
	cpu0 = load_proc_cpu_s(opt->server_pid);
	self0 = load_self_cpu_s();
	t0 = load_now_s();
	for (int i = 0; i < opt->n_dirs; i++)
		pthread_join(ps[i].tid, NULL);
	started = 0;
	t1 = load_now_s();
	cpu1 = load_proc_cpu_s(opt->server_pid);
	wb1 = proc_io(opt->server_pid, "write_bytes");
	self1 = load_self_cpu_s();
	for (int i = 0; i < opt->n_dirs; i++) {
		if (ps[i].failed) {
			warnx("push failed (client %d)", i);
			goto out;
		}
		applied += ps[i].applied;
		retries += ps[i].retries;
		packed += ps[i].packed_bytes;
		memcpy(lat + n_lat, ps[i].lat_ms, ps[i].n_lat * sizeof *lat);
		n_lat += ps[i].n_lat;
	}
	qsort(lat, n_lat, sizeof *lat, cmp_double);
	printf("push_ops=%lu\n", applied);
	printf("push_clients=%d\n", opt->n_dirs);
	printf("push_batch=%lu\n", opt->batch);
	printf("push_record_bytes=%.0f\n", applied ? (double)packed / (double)applied : 0.0);
	if (!opt->device)
		printf("push_requests=%zu\n", n_lat);
	printf("push_busy_retries=%lu\n", retries);
	printf("push_seconds=%.3f\n", t1 - t0);
	printf("push_ops_per_s=%.0f\n", (double)applied / (t1 - t0));
	if (!opt->device) { /* a device's pushes are inside veille_sync_ex: not timed one by one */
		printf("push_ack_p50_ms=%.1f\n", percentile(lat, n_lat, 50));
		printf("push_ack_p99_ms=%.1f\n", percentile(lat, n_lat, 99));
		printf("push_ack_max_ms=%.1f\n", n_lat ? lat[n_lat - 1] : 0.0);
	}
	if (cpu0 >= 0 && cpu1 >= 0) {
		printf("server_push_cpu_s=%.2f\n", cpu1 - cpu0);
		printf("server_push_cpu_pct=%.0f\n", (cpu1 - cpu0) / (t1 - t0) * 100.0);
		printf("server_push_cpu_us_per_op=%.1f\n",
		       applied ? (cpu1 - cpu0) / (double)applied * 1e6 : 0.0);
	}
	if (wb0 >= 0 && wb1 >= 0 && applied)
		printf("server_push_disk_bytes_per_op=%.0f\n", (double)(wb1 - wb0) / (double)applied);
	printf("bench_push_cpu_s=%.2f\n", self1 - self0);
	*applied_out = applied;
	status = 0;
out:
	for (int i = 0; i < started; i++)
		pthread_join(ps[i].tid, NULL);
	if (ps)
		for (int i = 0; i < opt->n_dirs; i++)
			free(ps[i].lat_ms);
	free(ps);
	free(lat);
	fflush(stdout);
	return status;
}

/* The cold pull: the first device, on a fresh connection, from cursor 0 until has_more is
 * false; prints the pull_* figures. Fails if fewer than expect records came. */
static int run_pull(const struct options *opt, unsigned long expect)
{
	struct veille_client *vc = NULL;
	struct veille_error err = {0};
	struct pull_count pc = {0};
	/* Every page moves the cursor (libveille checks it), so this bounds a sane server. */
	unsigned long pages = 0, max_pages = 2 * (expect + 1000);
	uint64_t cursor = 0;
	double t0, t1, cpu0, cpu1, self0, self1;
	long long wb0, wb1;
	int rc, more = 1, status = 1;

	if ((rc = veille_open(&vc, opt->dirs[0], &err)) != VEILLE_OK) {
		warnx("pull: open %s: %s: %s", opt->dirs[0], veille_strerror(rc), err.message);
		goto out;
	}
	veille_set_timeout(vc, opt->timeout_ms);
	if ((rc = veille_connect(vc, opt->timeout_ms)) != VEILLE_OK) {
		warnx("pull: connect: %s: %s", veille_strerror(rc), veille_last_error(vc)->message);
		goto out;
	}
	cpu0 = load_proc_cpu_s(opt->server_pid);
	self0 = load_self_cpu_s();
	wb0 = proc_io((long)getpid(), "write_bytes");
	t0 = load_now_s();
	/* Pages streamed 16 per request, as libveille's sync does (server reads the next page
	 * while this client decodes the current one). */
	if (opt->device) {
		struct veille_sync_opts so = { .what = VEILLE_SYNC_PULL,
					       .pull_limit = (uint32_t)opt->pull_limit,
					       .on_change = on_change, .arg = &pc };
		struct veille_sync_stats st;

		rc = veille_sync_ex(vc, &so, &st);
		if (rc != VEILLE_OK) {
			warnx("pull: %s: %s", veille_strerror(rc), veille_last_error(vc)->message);
			goto out;
		}
		more = 0;
	}
	while (more && pages < max_pages) {
		rc = veille_pull_pages(vc, cursor, (uint32_t)opt->pull_limit, 16, on_change, &pc,
				       &cursor, &more);
		if (rc != VEILLE_OK) {
			warnx("pull: %s: %s", veille_strerror(rc), veille_last_error(vc)->message);
			goto out;
		}
		pages += 16;
	}
	t1 = load_now_s();
	cpu1 = load_proc_cpu_s(opt->server_pid);
	self1 = load_self_cpu_s();
	wb1 = proc_io((long)getpid(), "write_bytes");
	if (more) {
		warnx("pull: still has_more after %lu pages", pages);
		goto out;
	}
	printf("pull_records=%lu\n", pc.records);
	printf("pull_pages=%lu\n", pages);
	printf("pull_seconds=%.3f\n", t1 - t0);
	printf("pull_records_per_s=%.0f\n", (double)pc.records / (t1 - t0));
	if (cpu0 >= 0 && cpu1 >= 0) {
		printf("server_pull_cpu_s=%.2f\n", cpu1 - cpu0);
		printf("server_pull_cpu_pct=%.0f\n", (cpu1 - cpu0) / (t1 - t0) * 100.0);
		printf("server_pull_cpu_us_per_record=%.1f\n",
		       pc.records ? (cpu1 - cpu0) / (double)pc.records * 1e6 : 0.0);
	}
	printf("bench_pull_cpu_s=%.2f\n", self1 - self0);
	if (opt->device && wb0 >= 0 && wb1 >= 0 && pc.records)
		printf("bench_pull_disk_bytes_per_record=%.0f\n",
		       (double)(wb1 - wb0) / (double)pc.records);
	if (pc.records < expect) {
		warnx("pull: %lu records, fewer than the %lu pushed (devices of several structures?)",
		      pc.records, expect);
		goto out;
	}
	status = 0;
out:
	veille_close(vc);
	fflush(stdout);
	return status;
}

static int cmd_sync(int argc, char **argv)
{
	struct options opt;
	struct corpus corpus;
	unsigned long applied = 0;
	int rc, status = 1;

	if ((rc = sync_parse(argc, argv, &opt)) != 0)
		return rc > 0 ? 0 : 2;
	if (corpus_init(&corpus, &opt) != 0) {
		warnx("cannot build the corpus");
		goto out;
	}
	if (enrol_all(&opt) != 0)
		goto out;
	if (opt.phases & PHASE_PUSH) {
		if (run_push(&opt, &corpus, &applied) != 0)
			goto out;
	} else {
		applied = opt.ops; /* pull only: what an earlier push-only run stored */
	}
	if ((opt.phases & PHASE_PULL) && run_pull(&opt, applied) != 0)
		goto out;
	if (opt.server_pid > 0) {
		printf("server_rss_kib=%ld\n", load_proc_status_kib(opt.server_pid, "VmRSS"));
		printf("server_rss_peak_kib=%ld\n", load_proc_status_kib(opt.server_pid, "VmHWM"));
	}
	status = 0;
out:
	corpus_free(&corpus);
	fflush(stdout);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: veille-bench COMMAND [OPTIONS]\n"
		   "  sync   push throughput, push acknowledgement latency and cold pull\n"
		   "         (veille-bench sync --help)\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "sync"))
		return cmd_sync(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
