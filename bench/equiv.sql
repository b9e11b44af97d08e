-- bench/equiv.sql: are two tenants' stored states the same, tenant_id
-- (and the events' received_at) aside? One line per table:
-- "TABLE rows_a rows_b differing", differing = rows of either side that
-- the other lacks (EXCEPT ALL both ways, whole rows as jsonb, so new
-- columns are compared too; events.raw as its exact text).
--
--   psql -v a=UUID -v b=UUID -v events=1 -f equiv.sql
\set ON_ERROR_STOP on
\pset tuples_only on
\pset format unaligned
\pset fieldsep ' '
CREATE TEMP VIEW ca AS SELECT to_jsonb(t) - 'tenant_id' AS r
	FROM conversations t WHERE tenant_id = :'a';
CREATE TEMP VIEW cb AS SELECT to_jsonb(t) - 'tenant_id' AS r
	FROM conversations t WHERE tenant_id = :'b';
CREATE TEMP VIEW da AS SELECT to_jsonb(t) - 'tenant_id' AS r
	FROM dimension_values t WHERE tenant_id = :'a';
CREATE TEMP VIEW db AS SELECT to_jsonb(t) - 'tenant_id' AS r
	FROM dimension_values t WHERE tenant_id = :'b';
CREATE TEMP VIEW ea AS SELECT to_jsonb(t) - 'tenant_id' - 'received_at'
	|| jsonb_build_object('raw', t.raw::text) AS r
	FROM events t WHERE tenant_id = :'a' AND :events = 1;
CREATE TEMP VIEW eb AS SELECT to_jsonb(t) - 'tenant_id' - 'received_at'
	|| jsonb_build_object('raw', t.raw::text) AS r
	FROM events t WHERE tenant_id = :'b' AND :events = 1;
SELECT 'conversations', (SELECT count(*) FROM ca), (SELECT count(*) FROM cb),
	(SELECT count(*) FROM (TABLE ca EXCEPT ALL TABLE cb) x)
	+ (SELECT count(*) FROM (TABLE cb EXCEPT ALL TABLE ca) y);
SELECT 'dimension_values', (SELECT count(*) FROM da), (SELECT count(*) FROM db),
	(SELECT count(*) FROM (TABLE da EXCEPT ALL TABLE db) x)
	+ (SELECT count(*) FROM (TABLE db EXCEPT ALL TABLE da) y);
SELECT 'events', (SELECT count(*) FROM ea), (SELECT count(*) FROM eb),
	(SELECT count(*) FROM (TABLE ea EXCEPT ALL TABLE eb) x)
	+ (SELECT count(*) FROM (TABLE eb EXCEPT ALL TABLE ea) y)
WHERE :events = 1;
