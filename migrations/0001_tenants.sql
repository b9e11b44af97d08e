-- Tenants and their API keys. Both are small registry tables shared by
-- all tenants (scale-out.md rule 1): a key is looked up by its hash before
-- the tenant is known. Only the SHA-256 of a key is stored.
CREATE TABLE tenants (
	id         uuid PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
	id         uuid PRIMARY KEY,
	tenant_id  uuid NOT NULL REFERENCES tenants (id),
	key_hash   text NOT NULL UNIQUE,
	prefix     text NOT NULL,
	scopes     text[] NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);
