/*
 * identity: the device's state directory on disk (key, state file, lock).
 *
 * Design: two small files, each replaced atomically and durably (write a temporary file,
 * fsync it, rename or link it into place, fsync the directory), so that a crash leaves either
 * the old or the new version, never a mix:
 *   device.key    the 64-byte Ed25519 secret key (libsodium layout), mode 0600, never
 *                 overwritten; refused when group or others could read it, or another user
 *                 owns it.
 *   device.state  "key=value" lines; values are percent-escaped (bytes < 0x20, 0x7f, '%')
 *                 so a server-chosen name cannot inject a line. Unknown keys are ignored, so
 *                 an older client can read a newer file.
 * A process holds DIR/lock (flock) while it uses the directory: shared by the processes that
 * use an enrolled device (the op counter and the outbox live in the local store, whose
 * transactions serialise them: a `veille sync --follow` and a `veille encounter add` may run
 * side by side), exclusive while a device is enrolled. Within one process a directory is open
 * at most once (the local store's LMDB environment must not be opened twice by a process).
 * device.state also keeps the counters an earlier client version wrote there: they are read
 * (legacy_*) for the local store to take over once, and no longer written.
 *
 * Errors are VEILLE_E* codes; err (may be NULL) receives a message naming the file at fault.
 */
#ifndef VEILLE_IDENTITY_H
#define VEILLE_IDENTITY_H

#include <stdint.h>

#include "proof.h"
#include "veille.h"

struct identity {
	int enrolled;                 /* device_id and server_id are known */
	char server_url[256];
	uint8_t device_id[PROOF_ID];
	uint8_t server_id[PROOF_ID];
	char professional_id[65];
	char display_name[129];
	char structure_id[65];
	char structure_name[129];
	/* Written by clients before the local store (clients/c/local.h), read only to move them
	 * there: has_legacy says device.state still holds them. */
	int has_legacy;
	uint64_t legacy_op_counter;
	uint64_t legacy_pull_cursor;
};

/*
 * Creates dir (mode 0700, and its missing parents) if absent, then takes its lock, shared,
 * without waiting. lock_fd: receives the descriptor holding the lock; release it with
 * identity_unlock().
 * Errors: VEILLE_EIO (errno set), VEILLE_EBUSY (another process holds the lock exclusively, or
 *   this process has the directory open already).
 */
int identity_lock(const char *dir, int *lock_fd, struct veille_error *err);

/*
 * Makes the lock exclusive (exclusive = 1: no other process may have the directory open) or
 * shared again (0), without waiting. Errors: VEILLE_EBUSY (another process has it open),
 * VEILLE_EIO.
 */
int identity_lock_mode(const char *dir, int lock_fd, int exclusive, struct veille_error *err);

/* Releases the lock taken by identity_lock(). A negative lock_fd is a no-op. */
void identity_unlock(int lock_fd);

/*
 * Reads dir/device.state into *out. A missing file yields a zeroed, not enrolled identity.
 * Errors: VEILLE_EIO, VEILLE_ECORRUPT (a line or value is malformed or over its size).
 */
int identity_load(const char *dir, struct identity *out, struct veille_error *err);

/* Replaces dir/device.state with *id (without the legacy counters), atomically and durably.
 * Errors: VEILLE_EIO. */
int identity_save(const char *dir, const struct identity *id, struct veille_error *err);

/*
 * Generates a key pair and writes dir/device.key (0600), failing rather than overwriting one.
 * secret_key: receives the secret key; the caller provides PROOF_SECRET_KEY bytes of
 *   sodium_malloc() memory. public_key: receives the public key.
 * Errors: VEILLE_EEXIST (a key is there), VEILLE_EIO.
 */
int identity_key_create(const char *dir, uint8_t *secret_key, uint8_t public_key[PROOF_PUBLIC_KEY],
			struct veille_error *err);

/*
 * Reads dir/device.key into secret_key (PROOF_SECRET_KEY bytes of sodium_malloc() memory).
 * Errors: VEILLE_ENOTENROLLED (no key), VEILLE_EINSECURE (mode lets group or others read it,
 *   or not owned by this user), VEILLE_ECORRUPT (wrong size or inconsistent key), VEILLE_EIO.
 */
int identity_key_load(const char *dir, uint8_t *secret_key, struct veille_error *err);

/* Removes dir/device.key (durably). A missing key is not an error. Errors: VEILLE_EIO. */
int identity_key_remove(const char *dir, struct veille_error *err);

/* Removes device.key, then device.state: the directory is no longer an enrolled device, and
 * what its local store holds (sealed with a key derived from device.key) can no longer be
 * opened. Errors: VEILLE_EIO. */
int identity_forget(const char *dir, struct veille_error *err);

#endif
