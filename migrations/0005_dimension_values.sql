-- The values seen per key, with the moment each was first seen: the
-- earliest ts of a stored event that carries it. Grafana's variables and
-- ad hoc filters list them, and the first sighting of each agent_version
-- becomes an annotation. Ingest keeps it current in the statement that
-- stores the events; `agentkpi rebuild-facts` rebuilds it from them.
CREATE TABLE dimension_values (
	tenant_id     uuid NOT NULL,
	key           text COLLATE "C" NOT NULL,
	value         text COLLATE "C" NOT NULL,
	first_seen_at timestamptz NOT NULL,
	PRIMARY KEY (tenant_id, key, value)
);

INSERT INTO dimension_values (tenant_id, key, value, first_seen_at)
SELECT e.tenant_id, d.key, d.value, min(e.ts)
FROM events e
CROSS JOIN LATERAL (VALUES
	('agent_version', e.agent_version), ('channel', e.channel),
	('topic', e.topic), ('customer_tier', e.customer_tier),
	('language', e.language), ('product_area', e.product_area),
	('cohort', e.cohort)) AS d(key, value)
WHERE d.value IS NOT NULL
GROUP BY e.tenant_id, d.key, d.value;
