-- Rollup levels (docs/kpi-rollups.md): besides the full cells (channel,
-- agent_version, stream), each hour and day keeps coarser rows summed over
-- channel, over agent_version, or over both. A query reads the coarsest
-- level that still has every key it groups or filters by: a scorecard
-- reads 4 rows per day instead of one per cell. lvl has a bit for each
-- key the row keeps: 2 channel, 1 agent_version (3 = full cell); a key
-- a row does not keep is ''.
DELETE FROM kpi_rollup;
ALTER TABLE kpi_rollup ADD COLUMN lvl smallint NOT NULL DEFAULT 3;
ALTER TABLE kpi_rollup DROP CONSTRAINT kpi_rollup_pkey;
ALTER TABLE kpi_rollup
	ADD PRIMARY KEY (tenant_id, span, t, lvl, channel, agent_version, stream);

-- Every hour with conversations is built again, levels included, by the
-- worker; until then queries read the facts there, exactly as before.
INSERT INTO kpi_marks (tenant_id, span, t)
SELECT DISTINCT tenant_id, 'h',
	date_trunc('hour', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
FROM conversations WHERE started_at IS NOT NULL;

-- Histogram and gap pairs packed as bytea, 6 bytes per pair (int2 code,
-- int4 count): PostgreSQL sends them as hex, several times cheaper than
-- the text of an int[].
ALTER TABLE kpi_rollup ALTER COLUMN hist TYPE bytea USING NULL;
ALTER TABLE kpi_rollup ALTER COLUMN gaps TYPE bytea USING NULL;
