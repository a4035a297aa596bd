/* keyring: see keyring.h. */
#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KDF_CONTEXT "veille01"
#define HEX_LEN (KEYRING_KEY_BYTES * 2)

struct keyring {
	uint32_t generation;
	uint8_t *keys; /* sodium_malloc: [DIRECTORY, WRAP, INDEX] each KEYRING_KEY_BYTES */
};

static void key_path(char *path, size_t n, const char *dir)
{
	snprintf(path, n, "%s/%s", dir, KEYRING_FILE);
}

int keyring_create(const char *dir)
{
	char path[PATH_MAX];
	uint8_t key[KEYRING_KEY_BYTES];
	char hex[HEX_LEN + 2];
	int fd, err = KEYRING_OK;

	key_path(path, sizeof(path), dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? KEYRING_EEXIST : KEYRING_EIO;
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	hex[HEX_LEN] = '\n';
	if (write(fd, hex, HEX_LEN + 1) != HEX_LEN + 1 || fsync(fd) != 0)
		err = KEYRING_EIO;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	if (close(fd) != 0)
		err = KEYRING_EIO;
	if (err != KEYRING_OK)
		unlink(path);
	return err;
}

int keyring_load(struct keyring **out, const char *dir)
{
	char path[PATH_MAX];
	char hex[HEX_LEN + 8];
	struct stat st;
	struct keyring *kr = NULL;
	uint8_t *master = NULL;
	size_t binlen = 0;
	ssize_t n;
	int fd = -1, err;

	*out = NULL;
	key_path(path, sizeof(path), dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = errno == ENOENT ? KEYRING_EMISSING : KEYRING_EIO;
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		err = KEYRING_EIO;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 0077) != 0) {
		err = KEYRING_EPERMS;
		goto fail;
	}
	n = read(fd, hex, sizeof(hex));
	if (n < HEX_LEN || n > HEX_LEN + 1 || (n == HEX_LEN + 1 && hex[HEX_LEN] != '\n')) {
		err = KEYRING_ECORRUPT;
		goto fail;
	}
	master = sodium_malloc(KEYRING_KEY_BYTES);
	kr = calloc(1, sizeof(*kr));
	if (kr)
		kr->keys = sodium_malloc(KEYRING_PURPOSES * KEYRING_KEY_BYTES);
	if (!master || !kr || !kr->keys) {
		err = KEYRING_ENOMEM;
		goto fail;
	}
	if (sodium_hex2bin(master, KEYRING_KEY_BYTES, hex, HEX_LEN, NULL, &binlen, NULL) != 0 ||
	    binlen != KEYRING_KEY_BYTES) {
		err = KEYRING_ECORRUPT;
		goto fail;
	}
	kr->generation = 1;
	for (int i = 0; i < KEYRING_PURPOSES; i++)
		crypto_kdf_derive_from_key(kr->keys + i * KEYRING_KEY_BYTES, KEYRING_KEY_BYTES,
					   (uint64_t)(i + 1) | ((uint64_t)kr->generation << 32),
					   KDF_CONTEXT, master);
	sodium_mprotect_readonly(kr->keys);
	*out = kr;
	kr = NULL;
	err = KEYRING_OK;
fail:
	sodium_memzero(hex, sizeof(hex));
	sodium_free(master);
	keyring_free(kr);
	if (fd >= 0)
		close(fd);
	return err;
}

void keyring_free(struct keyring *kr)
{
	if (!kr)
		return;
	sodium_free(kr->keys); /* wipes before unmapping */
	free(kr);
}

const uint8_t *keyring_key(const struct keyring *kr, enum keyring_purpose purpose)
{
	return kr->keys + ((int)purpose - 1) * KEYRING_KEY_BYTES;
}

uint32_t keyring_generation(const struct keyring *kr)
{
	return kr->generation;
}

void keyring_blind_index(const struct keyring *kr, const void *data, size_t len, uint8_t *out,
			 size_t outlen)
{
	crypto_generichash(out, outlen, data, len, keyring_key(kr, KEYRING_INDEX),
			   KEYRING_KEY_BYTES);
}

const char *keyring_strerror(int err)
{
	switch (err) {
	case KEYRING_OK: return "ok";
	case KEYRING_EMISSING:
		return "master key file " KEYRING_FILE " is missing (create it with `veillectl --data DIR init`)";
	case KEYRING_EPERMS:
		return "master key file " KEYRING_FILE " is readable by group or others: chmod 600 it";
	case KEYRING_ECORRUPT: return "master key file " KEYRING_FILE " is not 64 hex characters";
	case KEYRING_EEXIST: return "a master key already exists: refusing to overwrite it";
	case KEYRING_EIO: return "cannot read or write the master key file";
	case KEYRING_ENOMEM: return "out of memory for keys";
	}
	return "unknown keyring error";
}
