/* SPDX-License-Identifier: MIT */
/*
 * Tenants and API keys: creation, revocation and the per-request check.
 * Keys are hashed with SHA-256 (OpenSSL libcrypto) before they are stored
 * or looked up, so the database never holds a usable key.
 */
#include "keys.h"
#include "util.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const char *const scope_names[] = {"ingest", "read", "admin"};

int keys_parse_scopes(const char *list, int *scopes, struct err *err)
{
	char buf[128], *tok, *save = NULL;
	int i, found;

	*scopes = 0;
	if (!list || strlen(list) >= sizeof(buf))
		return err_set(err, API_ERR_INVALID_PARAM, "scopes",
			       "'scopes' must list ingest, read and/or admin");
	strcpy(buf, list);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		found = 0;
		for (i = 0; i < 3; i++) {
			if (strcmp(tok, scope_names[i]) == 0) {
				*scopes |= 1 << i;
				found = 1;
			}
		}
		if (!found)
			return err_set(err, API_ERR_INVALID_PARAM, "scopes",
				       "unknown scope '%s'; use ingest, read "
				       "or admin",
				       tok);
	}
	if (!*scopes)
		return err_set(err, API_ERR_INVALID_PARAM, "scopes",
			       "'scopes' must list ingest, read and/or admin");
	return 0;
}

void keys_scopes_text(int scopes, char *buf)
{
	int i;

	buf[0] = '\0';
	for (i = 0; i < 3; i++) {
		if (!(scopes & (1 << i)))
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, scope_names[i]);
	}
}

void keys_hash(const char *text, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;

	if (!EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) ||
	    len != 32)
		BUG("SHA-256 failed");
	hex_encode(md, 32, out);
}

bool keys_is_uuid(const char *s)
{
	int i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static int single_value(struct db *db, enum query_id q,
			const char *const *params, char *out, size_t outlen,
			bool *found, struct err *err)
{
	struct db_conn *conn;
	struct db_res *res;

	*found = false;
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, q, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	if (db_res_rows(res) > 0) {
		*found = true;
		if (out)
			snprintf(out, outlen, "%s", db_res_value(res, 0, 0));
	}
	db_res_free(res);
	return 0;
}

int keys_tenant_find(struct db *db, const char *name, char *tenant_id,
		     struct err *err)
{
	const char *params[1] = {name};
	bool found;

	if (single_value(db, Q_TENANT_BY_NAME, params, tenant_id, 37, &found,
			 err) < 0)
		return -1;
	if (!found)
		return err_set(err, API_ERR_NOT_FOUND, "tenant",
			       "no tenant named '%s'", name);
	return 0;
}

int keys_tenant_create(struct db *db, const char *name, bool if_not_exists,
		       char *tenant_id, bool *created, struct err *err)
{
	char id[37];
	const char *params[2] = {id, name};
	size_t i, len = strlen(name);

	*created = false;
	if (len < 1 || len > 64)
		return err_set(err, API_ERR_INVALID_PARAM, "name",
			       "a tenant name must be 1 to 64 characters");
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.')
			return err_set(err, API_ERR_INVALID_PARAM, "name",
				       "a tenant name may hold letters, "
				       "digits, '-', '_' and '.' only");
	util_uuid(id);
	if (single_value(db, Q_TENANT_CREATE, params, tenant_id, 37, created,
			 err) < 0)
		return -1;
	if (*created)
		return 0;
	if (!if_not_exists)
		return err_set(err, API_ERR_CONFLICT, "name",
			       "tenant '%s' already exists", name);
	return keys_tenant_find(db, name, tenant_id, err);
}

int keys_create(struct db *db, const char *tenant_name, int scopes,
		char *key_text, char *key_id, struct err *err)
{
	char tenant_id[37], hash[65], prefix[12], scopes_text[32];
	const char *params[5] = {key_id, tenant_id, hash, prefix, scopes_text};
	unsigned char rnd[32];
	bool done;

	if (keys_tenant_find(db, tenant_name, tenant_id, err) < 0)
		return -1;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return err_set(err, API_ERR_INTERNAL, NULL,
			       "no randomness available for a key");
	memcpy(key_text, "ak_", 3);
	hex_encode(rnd, sizeof(rnd), key_text + 3);
	keys_hash(key_text, hash);
	snprintf(prefix, sizeof(prefix), "%.11s", key_text);
	keys_scopes_text(scopes, scopes_text);
	util_uuid(key_id);
	return single_value(db, Q_KEY_CREATE, params, NULL, 0, &done, err);
}

int keys_revoke(struct db *db, const char *key_id, struct err *err)
{
	const char *params[1] = {key_id};
	bool found;

	if (!keys_is_uuid(key_id))
		return err_set(err, API_ERR_INVALID_PARAM, "key_id",
			       "'%s' is not a key id (a UUID)", key_id);
	if (single_value(db, Q_KEY_REVOKE, params, NULL, 0, &found, err) < 0)
		return -1;
	if (!found)
		return err_set(err, API_ERR_NOT_FOUND, "key_id",
			       "no active key with id '%s'", key_id);
	return 0;
}

int keys_authenticate_hash(struct db *db, const char *hash, struct auth *auth,
			   struct err *err)
{
	struct db_conn *conn;
	struct db_res *res;
	const char *params[1] = {hash};
	struct err ignore;
	int rc = -1;

	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_KEY_LOOKUP, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	if (db_res_rows(res) == 0) {
		err_set(err, API_ERR_UNAUTHORIZED, "Authorization",
			"the API key is unknown or revoked");
		goto out;
	}
	snprintf(auth->key_id, sizeof(auth->key_id), "%s",
		 db_res_value(res, 0, 0));
	snprintf(auth->tenant_id, sizeof(auth->tenant_id), "%s",
		 db_res_value(res, 0, 1));
	snprintf(auth->tenant_name, sizeof(auth->tenant_name), "%s",
		 db_res_value(res, 0, 3));
	auth->scopes = 0;
	keys_parse_scopes(db_res_value(res, 0, 2), &auth->scopes, &ignore);
	auth->rate_rps = db_res_value(res, 0, 4) ? db_res_int(res, 0, 4) : -1;
	auth->rate_burst = db_res_value(res, 0, 5) ? db_res_int(res, 0, 5) : -1;
	rc = 0;
out:
	db_res_free(res);
	return rc;
}

int keys_authenticate(struct db *db, const char *key_text, struct auth *auth,
		      struct err *err)
{
	char hash[65];

	keys_hash(key_text, hash);
	return keys_authenticate_hash(db, hash, auth, err);
}

int keys_mark_used(struct db *db, const char *key_id, struct err *err)
{
	const char *params[1] = {key_id};
	bool found;

	return single_value(db, Q_KEY_USED, params, NULL, 0, &found, err);
}

int keys_list(struct db *db, const char *tenant_name,
	      void (*row)(void *arg, const char *const *cols), void *arg,
	      struct err *err)
{
	char tenant_id[37];
	const char *params[1] = {tenant_id}, *cols[6];
	struct db_conn *conn;
	struct db_res *res;
	int r, c;

	if (keys_tenant_find(db, tenant_name, tenant_id, err) < 0)
		return -1;
	if (!(conn = db_acquire(db, err)))
		return -1;
	res = db_exec(conn, Q_KEYS_OF_TENANT, params, err);
	db_release(db, conn);
	if (!res)
		return -1;
	for (r = 0; r < db_res_rows(res); r++) {
		for (c = 0; c < 6; c++)
			cols[c] = db_res_value(res, r, c);
		row(arg, cols);
	}
	db_res_free(res);
	return 0;
}

int keys_tenant_set_limit(struct db *db, const char *tenant_name, long rps,
			  long burst, struct err *err)
{
	char rps_text[24], burst_text[24];
	const char *params[3] = {tenant_name, NULL, NULL};
	bool found;

	if (rps >= 0) {
		if (rps > 1000000 || burst < 1 || burst > 10000000)
			return err_set(err, API_ERR_INVALID_PARAM, "rps",
				       "--rps must be 0 to 1000000 and --burst "
				       "1 to 10000000");
		snprintf(rps_text, sizeof(rps_text), "%ld", rps);
		snprintf(burst_text, sizeof(burst_text), "%ld", burst);
		params[1] = rps_text;
		params[2] = burst_text;
	}
	if (single_value(db, Q_TENANT_SET_LIMIT, params, NULL, 0, &found, err) <
	    0)
		return -1;
	if (!found)
		return err_set(err, API_ERR_NOT_FOUND, "tenant",
			       "no tenant named '%s'", tenant_name);
	return 0;
}
