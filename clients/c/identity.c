/*
 * identity: the state directory on disk (see identity.h for the design).
 *
 * One table (fields[]) describes device.state, for both reading and writing, so the two can
 * not disagree; its legacy entries are only read. Temporary files are always created afresh
 * (O_EXCL after unlinking a leftover of a crash) and given their mode with fchmod, so neither
 * a stale file nor the umask can widen who may read them.
 */
#include "identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "errors.h"

#define KEY_FILE "device.key"
#define STATE_FILE "device.state"
#define LOCK_FILE "lock"
#define STATE_MAX 65536 /* bytes of device.state: far above what the fields can hold */

enum kind { STR, ID, U64 };

struct field {
	const char *key;
	size_t offset;
	size_t size;
	enum kind kind;
	int legacy;               /* read (for the local store to take over), never written */
};

#define FIELD_AS(key, name, kind, legacy) { key, offsetof(struct identity, name), \
					     sizeof(((struct identity *)0)->name), kind, legacy }
#define FIELD(name, kind) FIELD_AS(#name, name, kind, 0)

static const struct field fields[] = {
	FIELD(server_url, STR),
	FIELD(device_id, ID),
	FIELD(server_id, ID),
	FIELD(professional_id, STR),
	FIELD(display_name, STR),
	FIELD(structure_id, STR),
	FIELD(structure_name, STR),
	FIELD_AS("op_counter", legacy_op_counter, U64, 1),
	FIELD_AS("pull_cursor", legacy_pull_cursor, U64, 1),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* put_line() escapes into a buffer sized for the longest string field, server_url. */
#define MEMBER_SIZE(m) sizeof(((struct identity *)0)->m)
_Static_assert(MEMBER_SIZE(display_name) <= MEMBER_SIZE(server_url) &&
	       MEMBER_SIZE(structure_name) <= MEMBER_SIZE(server_url) &&
	       MEMBER_SIZE(professional_id) <= MEMBER_SIZE(server_url) &&
	       MEMBER_SIZE(structure_id) <= MEMBER_SIZE(server_url), "server_url is the longest");

static int path_of(char *out, size_t size, const char *dir, const char *name,
		   struct veille_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return errors_set(err, VEILLE_EIO, "%s: path too long", dir);
	}
	return 0;
}

static int io_error(struct veille_error *err, const char *path, const char *what)
{
	int e = errno;

	errors_set(err, VEILLE_EIO, "%s: %s: %s", path, what, strerror(e));
	errno = e;
	return VEILLE_EIO;
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *dir, struct veille_error *err)
{
	char buf[PATH_MAX];
	struct stat st;
	char *p;

	if (strlen(dir) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return io_error(err, dir, "cannot create");
	}
	strcpy(buf, dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return io_error(err, buf, "cannot create");
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return io_error(err, buf, "cannot create");
	if (stat(buf, &st) != 0)
		return io_error(err, buf, "cannot stat");
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return io_error(err, buf, "cannot use");
	}
	return 0;
}

static int fsync_dir(const char *dir, struct veille_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return io_error(err, dir, "cannot open");
	if (fsync(fd) != 0)
		rc = io_error(err, dir, "cannot sync");
	close(fd);
	return rc;
}

/*
 * Writes dir/name with exactly mode, durably: a fresh temporary file, fsync, then rename (or,
 * with no_replace, link: fails with VEILLE_EEXIST if name exists), then fsync of dir.
 */
static int write_atomic(const char *dir, const char *name, const void *data, size_t len,
			mode_t mode, int no_replace, struct veille_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX], tmp_name[64];
	const unsigned char *p = data;
	int fd = -1, rc;

	snprintf(tmp_name, sizeof tmp_name, "%s.tmp", name);
	if ((rc = path_of(path, sizeof path, dir, name, err)) ||
	    (rc = path_of(tmp, sizeof tmp, dir, tmp_name, err)))
		return rc;
	if (unlink(tmp) != 0 && errno != ENOENT)
		return io_error(err, tmp, "cannot remove");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return io_error(err, tmp, "cannot create");
	if (fchmod(fd, mode) != 0) {
		rc = io_error(err, tmp, "cannot chmod");
		goto fail;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = io_error(err, tmp, "cannot write");
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0) {
		rc = io_error(err, tmp, "cannot sync");
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = io_error(err, tmp, "cannot close");
		goto fail;
	}
	fd = -1;
	if (no_replace) {
		if (link(tmp, path) != 0) {
			rc = errno == EEXIST
				? errors_set(err, VEILLE_EEXIST, "%s: already exists", path)
				: io_error(err, path, "cannot create");
			goto fail;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		rc = io_error(err, path, "cannot replace");
		goto fail;
	}
	return fsync_dir(dir, err);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

/*
 * The directories this process has open, by device and inode: a second open of one would
 * open its LMDB environment twice, which LMDB forbids (and flock, being per open file, would
 * not catch). Bounded; guarded for clients used from several threads.
 */
#define MAX_OPEN_DIRS 256
static struct open_dir {
	int fd;
	dev_t dev;
	ino_t ino;
} open_dirs[MAX_OPEN_DIRS];
static size_t n_open_dirs;
static pthread_mutex_t open_dirs_lock = PTHREAD_MUTEX_INITIALIZER;

int identity_lock(const char *dir, int *lock_fd, struct veille_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i;
	int fd = -1, rc;

	*lock_fd = -1;
	if ((rc = make_dirs(dir, err)) || (rc = path_of(path, sizeof path, dir, LOCK_FILE, err)))
		return rc;
	if (stat(dir, &st) != 0)
		return io_error(err, dir, "cannot stat");
	pthread_mutex_lock(&open_dirs_lock);
	for (i = 0; i < n_open_dirs; i++) {
		if (open_dirs[i].dev == st.st_dev && open_dirs[i].ino == st.st_ino) {
			rc = errors_set(err, VEILLE_EBUSY, "%s: already open in this process", dir);
			goto out;
		}
	}
	if (n_open_dirs == MAX_OPEN_DIRS) {
		rc = errors_set(err, VEILLE_EIO, "%s: too many state directories open", dir);
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = io_error(err, path, "cannot open");
		goto out;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK
			? errors_set(err, VEILLE_EBUSY, "%s: in use by another process", dir)
			: io_error(err, path, "cannot lock");
		close(fd);
		goto out;
	}
	open_dirs[n_open_dirs++] = (struct open_dir){ fd, st.st_dev, st.st_ino };
	*lock_fd = fd;
	rc = 0;
out:
	pthread_mutex_unlock(&open_dirs_lock);
	return rc;
}

int identity_lock_mode(const char *dir, int lock_fd, int exclusive, struct veille_error *err)
{
	if (flock(lock_fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return errors_set(err, VEILLE_EBUSY, "%s: in use by another process", dir);
	return io_error(err, dir, "cannot lock");
}

void identity_unlock(int lock_fd)
{
	size_t i;

	if (lock_fd < 0)
		return;
	pthread_mutex_lock(&open_dirs_lock);
	for (i = 0; i < n_open_dirs; i++) {
		if (open_dirs[i].fd == lock_fd) {
			open_dirs[i] = open_dirs[--n_open_dirs];
			break;
		}
	}
	close(lock_fd);
	pthread_mutex_unlock(&open_dirs_lock);
}

/* Reads at most max bytes of path into a new NUL-terminated buffer (caller frees). */
static int read_small(const char *path, size_t max, char **out, size_t *len,
		      struct veille_error *err)
{
	char *buf = malloc(max + 1);
	size_t n = 0;
	int fd, rc = 0;

	*out = NULL;
	if (!buf)
		return errors_set(err, VEILLE_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = io_error(err, path, "cannot open");
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = io_error(err, path, "cannot read");
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = errors_set(err, VEILLE_ECORRUPT, "%s: too big", path);
			goto fail;
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes a percent-escaped value into out (size bytes with its NUL). Returns 0 or -1. */
static int unescape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		int ch = (unsigned char)*s;

		if (ch == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (lo < 0)
				return -1;
			ch = hi * 16 + lo;
			s += 2;
		}
		if (ch == 0 || n + 1 >= size)
			return -1;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

static int parse_value(const struct field *f, const char *value, struct identity *id)
{
	char *dst = (char *)id + f->offset;

	switch (f->kind) {
	case STR:
		return unescape(value, dst, f->size);
	case ID:
		if (strlen(value) != 2 * f->size)
			return -1;
		return sodium_hex2bin((unsigned char *)dst, f->size, value, 2 * f->size, NULL,
				      NULL, NULL);
	case U64: {
		char *end;
		unsigned long long v;

		if (*value < '0' || *value > '9')
			return -1;
		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno || *end)
			return -1;
		*(uint64_t *)(void *)dst = v;
		return 0;
	}
	}
	return -1;
}

int identity_load(const char *dir, struct identity *out, struct veille_error *err)
{
	char path[PATH_MAX], *text = NULL, *line, *next;
	int have_device = 0, have_server = 0, lineno = 0, rc;
	size_t len = 0;

	memset(out, 0, sizeof *out);
	if ((rc = path_of(path, sizeof path, dir, STATE_FILE, err)))
		return rc;
	rc = read_small(path, STATE_MAX, &text, &len, err);
	if (rc == VEILLE_EIO && errno == ENOENT) {
		errors_clear(err);
		return 0;
	}
	if (rc)
		return rc;
	if (strlen(text) != len) {
		rc = errors_set(err, VEILLE_ECORRUPT, "%s: holds a NUL byte", path);
		goto out;
	}
	for (line = text; line && *line; line = next) {
		char *eq;
		size_t i;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			rc = errors_set(err, VEILLE_ECORRUPT, "%s:%d: not key=value", path, lineno);
			goto out;
		}
		*eq = '\0';
		for (i = 0; i < NFIELDS && strcmp(fields[i].key, line) != 0; i++)
			;
		if (i == NFIELDS)
			continue; /* written by a newer client */
		if (parse_value(&fields[i], eq + 1, out) != 0) {
			rc = errors_set(err, VEILLE_ECORRUPT, "%s:%d: bad value for %s", path,
					lineno, line);
			goto out;
		}
		out->has_legacy |= fields[i].legacy;
		have_device |= fields[i].offset == offsetof(struct identity, device_id);
		have_server |= fields[i].offset == offsetof(struct identity, server_id);
	}
	out->enrolled = have_device && have_server;
	rc = 0;
out:
	free(text);
	return rc;
}

/* Appends "key=value\n" to buf, escaping the value; returns the new length (may exceed size). */
static size_t put_line(char *buf, size_t size, size_t n, const struct field *f,
		       const struct identity *id)
{
	const char *src = (const char *)id + f->offset;
	char value[3 * sizeof id->server_url + 1]; /* every byte escaped, at worst */
	size_t i, v = 0;

	switch (f->kind) {
	case STR:
		for (i = 0; src[i] && i < f->size; i++) {
			unsigned char ch = (unsigned char)src[i];

			if (ch < 0x20 || ch == 0x7f || ch == '%')
				v += (size_t)snprintf(value + v, sizeof value - v, "%%%02X", ch);
			else
				value[v++] = (char)ch;
		}
		value[v] = '\0';
		break;
	case ID:
		sodium_bin2hex(value, sizeof value, (const unsigned char *)src, f->size);
		break;
	case U64:
		snprintf(value, sizeof value, "%llu",
			 (unsigned long long)*(const uint64_t *)(const void *)src);
		break;
	}
	return n + (size_t)snprintf(buf + (n < size ? n : size), n < size ? size - n : 0,
				    "%s=%s\n", f->key, value);
}

int identity_save(const char *dir, const struct identity *id, struct veille_error *err)
{
	static const char header[] = "# veille device state (libveille). Do not edit while in use.\n";
	char buf[4096];
	size_t n = sizeof header - 1, i;

	memcpy(buf, header, n);
	for (i = 0; i < NFIELDS; i++) {
		if (fields[i].legacy || (fields[i].kind == ID && !id->enrolled))
			continue;
		n = put_line(buf, sizeof buf, n, &fields[i], id);
	}
	if (n >= sizeof buf) /* cannot happen: the fields are bounded well below */
		return errors_set(err, VEILLE_EIO, "%s/" STATE_FILE ": state too big", dir);
	return write_atomic(dir, STATE_FILE, buf, n, 0600, 0, err);
}

int identity_key_create(const char *dir, uint8_t *secret_key, uint8_t public_key[PROOF_PUBLIC_KEY],
			struct veille_error *err)
{
	if (crypto_sign_keypair(public_key, secret_key) != 0)
		return errors_set(err, VEILLE_EIO, "cannot generate a key pair");
	return write_atomic(dir, KEY_FILE, secret_key, PROOF_SECRET_KEY, 0600, 1, err);
}

/* Checks that the public half of a libsodium secret key is the one its seed gives. */
static int key_consistent(const uint8_t *secret_key)
{
	uint8_t pk[PROOF_PUBLIC_KEY];
	uint8_t *sk = sodium_malloc(PROOF_SECRET_KEY);
	int ok;

	if (!sk)
		return 0;
	ok = crypto_sign_seed_keypair(pk, sk, secret_key) == 0 &&
	     sodium_memcmp(pk, secret_key + 32, sizeof pk) == 0;
	sodium_free(sk);
	return ok;
}

int identity_key_load(const char *dir, uint8_t *secret_key, struct veille_error *err)
{
	char path[PATH_MAX];
	struct stat st;
	size_t n = 0;
	int fd, rc;

	if ((rc = path_of(path, sizeof path, dir, KEY_FILE, err)))
		return rc;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return errors_set(err, VEILLE_ENOTENROLLED, "%s: no device key; enrol first", path);
	if (fd < 0 && errno == ELOOP)
		return errors_set(err, VEILLE_EINSECURE, "%s: is a symbolic link", path);
	if (fd < 0)
		return io_error(err, path, "cannot open");
	if (fstat(fd, &st) != 0) {
		rc = io_error(err, path, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = errors_set(err, VEILLE_EINSECURE, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		rc = errors_set(err, VEILLE_EINSECURE, "%s: owned by another user (uid %u)", path,
				(unsigned)st.st_uid);
		goto out;
	}
	if (st.st_mode & 077) {
		rc = errors_set(err, VEILLE_EINSECURE,
				"%s: readable by group or others (mode %04o); run: chmod 600 %s",
				path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_size != PROOF_SECRET_KEY) {
		rc = errors_set(err, VEILLE_ECORRUPT, "%s: %lld bytes, expected %d", path,
				(long long)st.st_size, PROOF_SECRET_KEY);
		goto out;
	}
	while (n < PROOF_SECRET_KEY) {
		ssize_t r = read(fd, secret_key + n, PROOF_SECRET_KEY - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? io_error(err, path, "cannot read")
				   : errors_set(err, VEILLE_ECORRUPT, "%s: truncated", path);
			goto out;
		}
		n += (size_t)r;
	}
	if (!key_consistent(secret_key)) {
		sodium_memzero(secret_key, PROOF_SECRET_KEY);
		rc = errors_set(err, VEILLE_ECORRUPT, "%s: not a valid Ed25519 key", path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int remove_file(const char *dir, const char *name, struct veille_error *err)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = path_of(path, sizeof path, dir, name, err)))
		return rc;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return 0;
		return io_error(err, path, "cannot remove");
	}
	return fsync_dir(dir, err);
}

int identity_key_remove(const char *dir, struct veille_error *err)
{
	return remove_file(dir, KEY_FILE, err);
}

int identity_forget(const char *dir, struct veille_error *err)
{
	int rc = remove_file(dir, KEY_FILE, err);

	return rc ? rc : remove_file(dir, STATE_FILE, err);
}
