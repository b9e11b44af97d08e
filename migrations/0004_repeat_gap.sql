-- Repeat contacts, stored window-free like reopens: for a resolved
-- conversation with a customer, the time from resolved_at to the start of
-- the customer's next conversation with a compatible topic (the same, or
-- either without one). A repeat contact within W is repeat_gap_ms <= W.
-- Ingest keeps it current for every conversation of a customer whenever
-- one of them starts, changes topic or customer, or is resolved.
ALTER TABLE conversations ADD COLUMN repeat_gap_ms bigint;

UPDATE conversations c SET repeat_gap_ms = (
	SELECT (extract(epoch FROM min(o.started_at) - c.resolved_at) * 1000)::bigint
	FROM conversations o
	WHERE o.tenant_id = c.tenant_id AND o.customer_id = c.customer_id
	  AND o.conversation_id <> c.conversation_id
	  AND o.started_at > c.resolved_at
	  AND (o.topic IS NULL OR c.topic IS NULL OR o.topic = c.topic))
WHERE c.status = 'resolved' AND c.customer_id IS NOT NULL;
