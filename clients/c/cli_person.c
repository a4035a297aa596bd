/*
 * cli_person: `veille person set` queues an edit of a person's profile (only the fields
 * given, each with the device's next clock stamp, set by libveille) and sends it like
 * `encounter add` does; `veille person show` prints the profile as the device holds it:
 * what was pulled, with the edits still queued folded in, each field with its stamp.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "names.h"
#include "veille/v1/records.pb-c.h"

#define FIELD_MAX 16 /* PersonField values this client knows are 1 to 11 */

enum {
	OPT_GIVEN = 1000, OPT_FAMILY, OPT_NICK, OPT_BIRTH, OPT_ADULTS, OPT_CHILDREN, OPT_MOBILITY,
	OPT_ANIMAL, OPT_SITUATION, OPT_LANGUAGES, OPT_OBJECTION, OPT_CLEAR
};

/* The field each value option sets. */
static const struct {
	int opt;
	Veille__V1__PersonField field;
} option_fields[] = {
	{ OPT_GIVEN, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_GIVEN_NAME },
	{ OPT_FAMILY, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_FAMILY_NAME },
	{ OPT_NICK, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_NICKNAME },
	{ OPT_BIRTH, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_BIRTH_YEAR },
	{ OPT_ADULTS, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_ADULTS },
	{ OPT_CHILDREN, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_HOUSEHOLD_CHILDREN },
	{ OPT_MOBILITY, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_REDUCED_MOBILITY },
	{ OPT_ANIMAL, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_ANIMAL },
	{ OPT_SITUATION, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_SITUATION },
	{ OPT_LANGUAGES, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_LANGUAGES },
	{ OPT_OBJECTION, VEILLE__V1__PERSON_FIELD__PERSON_FIELD_OBJECTS_TO_SHARING },
};

struct person_args {
	const char *person;
	int new_person;
	enum cli_send_mode mode;
	Veille__V1__PersonFieldValue values[FIELD_MAX];
	Veille__V1__PersonFieldValue *ptrs[FIELD_MAX];
	size_t n;
	unsigned given;           /* bit per field number */
};

/* A new value slot for field, refusing a field given twice. */
static Veille__V1__PersonFieldValue *slot(struct person_args *a, int field)
{
	char name[64];
	Veille__V1__PersonFieldValue *v;

	if (a->given & (1u << field)) {
		cli_usage_error("person set: %s given twice",
				names_lower(&veille__v1__person_field__descriptor, field, name,
					    sizeof name));
		return NULL;
	}
	a->given |= 1u << field;
	v = &a->values[a->n];
	a->ptrs[a->n++] = v;
	veille__v1__person_field_value__init(v);
	v->field = (Veille__V1__PersonField)field;
	return v;
}

/* "reduced-mobility", "household_adults", "adults" -> the field. */
static int parse_field(const char *s, int *field)
{
	char buf[64];
	size_t i;

	if (strcmp(s, "adults") == 0)
		s = "household_adults";
	else if (strcmp(s, "children") == 0)
		s = "household_children";
	for (i = 0; s[i] && i + 1 < sizeof buf; i++)
		buf[i] = s[i] == '-' ? '_' : s[i];
	buf[i] = '\0';
	return names_parse(&veille__v1__person_field__descriptor, buf, field);
}

static int parse_flag(const char *s, protobuf_c_boolean *out)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* Sets the value of the field option opt from arg. */
static int set_value(struct person_args *a, int opt, const char *arg, const char *optname)
{
	Veille__V1__PersonFieldValue *v = NULL;
	uint64_t num;
	size_t i;

	for (i = 0; i < sizeof option_fields / sizeof option_fields[0]; i++)
		if (option_fields[i].opt == opt)
			break;
	if (i == sizeof option_fields / sizeof option_fields[0])
		return CLI_USAGE;
	switch (opt) {
	case OPT_BIRTH:
	case OPT_ADULTS:
	case OPT_CHILDREN:
		if (cli_parse_u64(arg, INT64_MAX, &num) != 0)
			return cli_usage_error("--%s: expected a number, got '%s'", optname, arg);
		if (!(v = slot(a, (int)option_fields[i].field)))
			return CLI_USAGE;
		v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_NUMBER;
		v->number = (int64_t)num;
		return CLI_OK;
	case OPT_MOBILITY:
	case OPT_ANIMAL:
	case OPT_OBJECTION: {
		protobuf_c_boolean flag;

		if (parse_flag(arg, &flag) != 0)
			return cli_usage_error("--%s: expected yes or no, got '%s'", optname, arg);
		if (!(v = slot(a, (int)option_fields[i].field)))
			return CLI_USAGE;
		v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_FLAG;
		v->flag = flag;
		return CLI_OK;
	}
	default:
		if (!(v = slot(a, (int)option_fields[i].field)))
			return CLI_USAGE;
		v->value_case = VEILLE__V1__PERSON_FIELD_VALUE__VALUE_TEXT;
		v->text = (char *)arg;
		return CLI_OK;
	}
}

static int parse_set(struct cli *cli, int argc, char **argv, struct person_args *a)
{
	static const struct option opts[] = {
		{ "person", required_argument, NULL, 'p' },
		{ "new-person", no_argument, NULL, 'N' },
		{ "given-name", required_argument, NULL, OPT_GIVEN },
		{ "family-name", required_argument, NULL, OPT_FAMILY },
		{ "nickname", required_argument, NULL, OPT_NICK },
		{ "birth-year", required_argument, NULL, OPT_BIRTH },
		{ "adults", required_argument, NULL, OPT_ADULTS },
		{ "children", required_argument, NULL, OPT_CHILDREN },
		{ "reduced-mobility", required_argument, NULL, OPT_MOBILITY },
		{ "animal", required_argument, NULL, OPT_ANIMAL },
		{ "situation", required_argument, NULL, OPT_SITUATION },
		{ "languages", required_argument, NULL, OPT_LANGUAGES },
		{ "objection", required_argument, NULL, OPT_OBJECTION },
		{ "clear", required_argument, NULL, OPT_CLEAR },
		CLI_SEND_OPTIONS,
		CLI_GLOBAL_OPTIONS,
		{ NULL, 0, NULL, 0 }
	};
	int opt, idx, rc, field;

	memset(a, 0, sizeof *a);
	a->mode = CLI_SEND_TRY;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		Veille__V1__PersonFieldValue *v;

		switch (opt) {
		case 'p': a->person = optarg; break;
		case 'N': a->new_person = 1; break;
		case 'Y':
		case 'Q':
			if (a->mode != CLI_SEND_TRY)
				return cli_usage_error("person set: --sync or --no-sync, not both");
			a->mode = opt == 'Y' ? CLI_SEND_SYNC : CLI_SEND_QUEUE;
			break;
		case OPT_CLEAR:
			if (parse_field(optarg, &field) != 0)
				return cli_usage_error("--clear: unknown field '%s'", optarg);
			if (!(v = slot(a, field)))
				return CLI_USAGE;
			v->cleared = 1;
			break;
		default:
			if (opt >= OPT_GIVEN && opt < OPT_CLEAR) {
				if ((rc = set_value(a, opt, optarg, opts[idx].name)) != CLI_OK)
					return rc;
			} else if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK) {
				return rc;
			}
		}
	}
	if (optind < argc)
		return cli_usage_error("person set: unexpected argument '%s'", argv[optind]);
	if (!a->person == !a->new_person)
		return cli_usage_error("person set: give --person ID or --new-person");
	if (a->n == 0)
		return cli_usage_error("person set: give at least one field to set or --clear");
	return CLI_OK;
}

static int person_set(struct cli *cli, int argc, char **argv)
{
	Veille__V1__Mutation m = VEILLE__V1__MUTATION__INIT, *ptr = &m;
	Veille__V1__Person p = VEILLE__V1__PERSON__INIT;
	struct veille_client *c = NULL;
	struct cli_sender *sender = NULL;
	struct person_args a;
	char new_person[33];
	int rc;

	if ((rc = parse_set(cli, argc, argv, &a)))
		return rc;
	if (a.new_person) {
		veille_new_record_id(new_person);
		printf("person_id=%s\n", new_person);
		a.person = new_person;
	}
	p.n_fields = a.n;
	p.fields = a.ptrs;
	m.record_id = (char *)a.person;
	m.record_case = VEILLE__V1__MUTATION__RECORD_PERSON;
	m.person = &p;
	sender = malloc(sizeof *sender);
	if (!sender) {
		fprintf(stderr, "veille: out of memory\n");
		return CLI_FAILED;
	}
	if ((rc = cli_open(cli, &c)))
		goto out;
	cli_sender_init(sender, c, a.mode);
	if ((rc = cli_sender_send(sender, &ptr, 1)) == CLI_OK)
		rc = cli_sender_finish(sender);
out:
	veille_close(c);
	free(sender);
	return rc;
}

static int person_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { CLI_GLOBAL_OPTIONS, { NULL, 0, NULL, 0 } };
	struct veille_client *c = NULL;
	Veille__V1__Change *ch = NULL;
	const char *id;
	size_t pending = 0;
	int opt, rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if ((rc = cli_global_option(cli, opt, optarg, argv)) != CLI_OK)
			return rc;
	if (argc - optind != 1)
		return cli_usage_error("person show: expected one person id");
	id = argv[optind];
	if ((rc = cli_open(cli, &c)))
		return rc;
	rc = veille_record_get(c, id, &ch, &pending);
	if (rc) {
		rc = cli_fail(c, rc);
		goto out;
	}
	if (ch->record_case != VEILLE__V1__CHANGE__RECORD_PERSON) {
		fprintf(stderr, "veille: %s is not a person on this device\n", id);
		rc = CLI_USAGE;
		goto out;
	}
	if (cli_print_person(id, ch, pending) != 0) {
		fprintf(stderr, "veille: cannot write to stdout\n");
		rc = CLI_FAILED;
		goto out;
	}
	rc = CLI_OK;
out:
	veille_change_free(ch);
	veille_close(c);
	return rc;
}

int cmd_person(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return person_set(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return person_show(cli, argc - 1, argv + 1);
	return cli_usage_error("person: expected 'person set' or 'person show ID'");
}
