/* SPDX-License-Identifier: MIT */
#ifndef AGENTKPI_KEYS_H
#define AGENTKPI_KEYS_H

/*
 * Tenants and API keys. A key is "ak_" + 64 hex digits (256 random bits;
 * keys made before 0.x have 40 hex digits and keep working); only its
 * SHA-256 is stored. Keys carry scopes: ingest, read, admin.
 */

#include "db.h"
#include "err.h"

#include <stdbool.h>

enum key_scope {
	SCOPE_INGEST = 1 << 0,
	SCOPE_READ = 1 << 1,
	SCOPE_ADMIN = 1 << 2,
};

#define KEY_TEXT_LEN 67	       /* "ak_" + 64 hex */
#define KEY_TEXT_LEN_LEGACY 43 /* "ak_" + 40 hex, keys made before */

/* Who a request is, once its key is checked. */
struct auth {
	char key_id[37];
	char tenant_id[37];
	char tenant_name[65];
	int scopes;
	long rate_rps;	 /* the tenant's rate limit; -1: the server's */
	long rate_burst; /* -1: the server's */
};

/*
 * Parses "ingest,read,admin" into a scope set. Returns -1 with err for
 * an unknown or empty scope list.
 */
int keys_parse_scopes(const char *list, int *scopes, struct err *err);

/* Writes "ingest,read" style text for scopes into buf (>= 32 bytes). */
void keys_scopes_text(int scopes, char *buf);

/*
 * Creates tenant name; *tenant_id gets its id (37 bytes). When it exists
 * already: with if_not_exists its id is returned and *created is false,
 * otherwise API_ERR_CONFLICT. Returns 0 or -1 with err.
 */
int keys_tenant_create(struct db *db, const char *name, bool if_not_exists,
		       char *tenant_id, bool *created, struct err *err);

/* Looks a tenant up by name: 0 found, -1 with err (NOT_FOUND or other). */
int keys_tenant_find(struct db *db, const char *name, char *tenant_id,
		     struct err *err);

/*
 * Makes a new key for the tenant with the given scopes: key_text gets the
 * secret (KEY_TEXT_LEN + 1 bytes; shown once, never stored) and key_id its
 * id (37 bytes). Returns 0 or -1 with err.
 */
int keys_create(struct db *db, const char *tenant_name, int scopes,
		char *key_text, char *key_id, struct err *err);

/* Revokes a key by id: 0, or -1 with err (NOT_FOUND when unknown). */
int keys_revoke(struct db *db, const char *key_id, struct err *err);

/*
 * Checks a presented key: 0 and *auth filled when it is valid and not
 * revoked; -1 with API_ERR_UNAUTHORIZED otherwise (or a database error).
 */
int keys_authenticate(struct db *db, const char *key_text, struct auth *auth,
		      struct err *err);

/* The same for a key's SHA-256 (keys_hash), as the request path has it. */
int keys_authenticate_hash(struct db *db, const char *hash, struct auth *auth,
			   struct err *err);

/* Records that key_id was used now (api_keys.last_used_at). */
int keys_mark_used(struct db *db, const char *key_id, struct err *err);

/*
 * Calls row for each key of the tenant named tenant_name, newest first,
 * with 6 columns: id, prefix, scopes, created, last used ("never"),
 * revoked ("-"). -1 with err (NOT_FOUND for an unknown tenant).
 */
int keys_list(struct db *db, const char *tenant_name,
	      void (*row)(void *arg, const char *const *cols), void *arg,
	      struct err *err);

/*
 * Sets the per-key rate limit of a tenant: rps requests per second (0: no
 * limit) with bursts of burst; rps < 0 returns to the server's default.
 */
int keys_tenant_set_limit(struct db *db, const char *tenant_name, long rps,
			  long burst, struct err *err);

/* SHA-256 of text as 64 lower-case hex digits (+ NUL) into out. */
void keys_hash(const char *text, char out[65]);

/* True when s looks like a UUID (36 chars, hex and dashes). */
bool keys_is_uuid(const char *s);

#endif
