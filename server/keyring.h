/* keyring: the master key file and the keys derived from it.
 *
 * DIR/master.key holds 32 random bytes (hex) created by `veillectl init` with mode 0600;
 * loading refuses a missing file or one that group or others can read. Purpose keys are
 * derived with crypto_kdf (context "veille01"), so the master key itself is never used to
 * seal anything; a key generation number leaves room for rotation. All key memory is
 * sodium_malloc'd (guarded, locked) and wiped on free. */
#ifndef VEILLE_KEYRING_H
#define VEILLE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#define KEYRING_FILE "master.key"
#define KEYRING_KEY_BYTES 32

enum keyring_err {
	KEYRING_OK = 0,
	KEYRING_EMISSING = 1, /* no master.key in the data directory */
	KEYRING_EPERMS = 2,   /* master.key readable or writable by group or others */
	KEYRING_ECORRUPT = 3, /* not 64 hex characters */
	KEYRING_EEXIST = 4,   /* keyring_create: a master key is already there */
	KEYRING_EIO = 5,      /* see errno */
	KEYRING_ENOMEM = 6,
};

enum keyring_purpose {
	KEYRING_DIRECTORY = 1, /* seals directory values: structures, professionals, devices */
	KEYRING_WRAP = 2,      /* wraps per-person data keys */
	KEYRING_INDEX = 3,     /* keyed hashes (blind indexes) of identifying look-up values */
	KEYRING_AUDIT = 4,     /* chains the audit log (audit.c): a MAC per entry */
};
#define KEYRING_PURPOSES 4

struct keyring;

/* Creates DIR/master.key (O_EXCL, mode 0600) from fresh random bytes. DIR must exist.
 * Errors: KEYRING_EEXIST, KEYRING_EIO. */
int keyring_create(const char *dir);

/* Loads and checks DIR/master.key. *out is freed with keyring_free.
 * Errors: KEYRING_EMISSING, KEYRING_EPERMS, KEYRING_ECORRUPT, KEYRING_EIO, KEYRING_ENOMEM. */
int keyring_load(struct keyring **out, const char *dir);

void keyring_free(struct keyring *kr);

/* The derived key for a purpose; borrowed, valid until keyring_free. */
const uint8_t *keyring_key(const struct keyring *kr, enum keyring_purpose purpose);

/* Generation of the derived keys, bound into every sealed value's associated data. */
uint32_t keyring_generation(const struct keyring *kr);

/* Keyed hash (BLAKE2b with the INDEX key) of data into out (outlen 16..64 bytes). */
void keyring_blind_index(const struct keyring *kr, const void *data, size_t len, uint8_t *out,
			 size_t outlen);

const char *keyring_strerror(int err);

#endif
