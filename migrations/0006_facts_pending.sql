-- Conversations whose facts lag their events. Ingest appends one row per
-- conversation it touches, in the statement that stores the events; the
-- worker and every read take rows out (DELETE) and recompute those
-- conversations' facts in the same transaction. Rows are never updated,
-- so concurrent ingests never wait on each other here.
CREATE TABLE facts_pending (
	tenant_id       uuid NOT NULL,
	conversation_id text COLLATE "C" NOT NULL
);

CREATE INDEX facts_pending_by_tenant ON facts_pending (tenant_id);
