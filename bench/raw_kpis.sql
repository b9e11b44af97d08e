-- bench/raw_kpis.sql: the KPIs as a user without agentkpi would compute
-- them, by hand, from the raw events table: per-conversation flags from
-- the events with GROUP BY conversation, then the aggregates. It follows
-- /work/shared/metrics-spec.md sections 2 and 3 for what it computes:
-- conversations, AI-involved conversations (A), deflection, containment,
-- true resolution (reopen and repeat-contact windows, negative feedback,
-- wrong grades), escalation, and p50/p90 time to first response.
--
--   psql -v tenant=UUID -v from=TS -v to=TS -v window_ms=86400000 \
--        -v k1='channel' -v k2='NULL::text' -v into='' -f raw_kpis.sql
--
-- k1, k2: the group keys, SQL over the flags below (NULL::text: none;
-- date_trunc('day', started_at)::text for a daily series). into: empty,
-- or 'CREATE TEMP TABLE raw_result AS' to keep the rows for raw_check.sql.
-- Run it with the session time zone UTC (PGOPTIONS='-c TimeZone=UTC').
:into
-- ev is inlined where used (NOT MATERIALIZED): a materialized copy of every
-- event of the tenant would be written to temp files at 10M conversations.
WITH ev AS NOT MATERIALIZED (
	SELECT * FROM events WHERE tenant_id = :'tenant'
),
per_conv AS (
	SELECT conversation_id,
		min(ts) AS started_at,
		(array_agg(customer_id ORDER BY ts DESC, id DESC)
			FILTER (WHERE customer_id IS NOT NULL))[1] AS customer_id,
		(array_agg(agent_version ORDER BY ts DESC, id DESC)
			FILTER (WHERE agent_version IS NOT NULL))[1] AS agent_version,
		(array_agg(channel ORDER BY ts DESC, id DESC)
			FILTER (WHERE channel IS NOT NULL))[1] AS channel,
		(array_agg(topic ORDER BY ts DESC, id DESC)
			FILTER (WHERE topic IS NOT NULL))[1] AS topic,
		bool_or((type = 'message' AND author = 'ai')
			OR (type = 'resolved' AND resolved_by = 'ai')) AS ai,
		bool_or((type = 'message' AND author = 'human') OR type = 'handoff'
			OR (type = 'resolved' AND resolved_by = 'human')) AS human,
		bool_or(type = 'handoff') AS escalated,
		(array_agg(type ORDER BY ts DESC, id DESC) FILTER (WHERE type IN
			('resolved', 'reopened', 'abandoned')))[1] AS last_outcome,
		(array_agg(resolved_by ORDER BY ts DESC, id DESC)
			FILTER (WHERE type = 'resolved'))[1] AS resolved_by,
		max(ts) FILTER (WHERE type = 'resolved') AS resolved_at,
		min(ts) FILTER (WHERE type = 'message'
			AND author IN ('ai', 'human')) AS first_response_at,
		(array_agg(csat ORDER BY ts DESC, id DESC)
			FILTER (WHERE csat IS NOT NULL))[1] AS csat,
		(array_agg(thumbs ORDER BY ts DESC, id DESC)
			FILTER (WHERE thumbs IS NOT NULL))[1] AS thumbs,
		(array_agg(resolution_correct ORDER BY ts DESC, id DESC)
			FILTER (WHERE type = 'quality'
			AND resolution_correct IS NOT NULL))[1] AS resolution_correct
	FROM ev GROUP BY conversation_id
),
-- a reopen in (t, t + W] of some resolve at t
reopened AS (
	SELECT DISTINCT o.conversation_id
	FROM ev o JOIN ev r ON r.conversation_id = o.conversation_id
	WHERE o.type = 'reopened' AND r.type = 'resolved' AND o.ts > r.ts
	  AND o.ts <= r.ts + :window_ms * interval '1 millisecond'
),
conv AS (
	SELECT c.*,
		CASE WHEN ai AND NOT human THEN 'ai_only' WHEN ai THEN 'hybrid'
		     WHEN human THEN 'human_only' ELSE 'none' END AS stream,
		coalesce(last_outcome = 'resolved', false) AS is_resolved,
		r.conversation_id IS NOT NULL AS reopened_w
	FROM per_conv c LEFT JOIN reopened r USING (conversation_id)
),
-- repeat_w: the same customer starts another conversation in
-- (resolved_at, resolved_at + W] on a compatible topic
repeated AS (
	SELECT c.conversation_id, bool_or(o.conversation_id IS NOT NULL)
		AS repeat_w
	FROM conv c LEFT JOIN conv o ON o.customer_id = c.customer_id
	  AND c.is_resolved AND o.conversation_id <> c.conversation_id
	  AND o.started_at > c.resolved_at
	  AND o.started_at <= c.resolved_at + :window_ms * interval '1 millisecond'
	  AND (o.topic IS NULL OR c.topic IS NULL OR o.topic = c.topic)
	GROUP BY c.conversation_id
),
flags AS (
	SELECT c.*,
		c.stream = 'ai_only' AND c.is_resolved AND c.resolved_by = 'ai'
			AS contained,
		coalesce(c.csat <= 2, false) OR coalesce(c.thumbs = 'down', false)
			AS negative,
		p.repeat_w
	FROM conv c JOIN repeated p USING (conversation_id)
	WHERE c.started_at >= :'from' AND c.started_at < :'to'
)
SELECT :k1 AS k1, :k2 AS k2,
	count(*) AS conversations,
	count(*) FILTER (WHERE ai) AS ai_involved,
	count(*) FILTER (WHERE ai AND stream = 'ai_only') AS deflected,
	count(*) FILTER (WHERE ai AND contained) AS contained,
	count(*) FILTER (WHERE ai AND contained AND NOT reopened_w
		AND NOT negative AND NOT repeat_w
		AND resolution_correct IS DISTINCT FROM false) AS truly_resolved,
	count(*) FILTER (WHERE ai AND escalated) AS escalated,
	percentile_cont(0.5) WITHIN GROUP (ORDER BY
		extract(epoch FROM first_response_at - started_at)::float8)
		AS ttfr_p50,
	percentile_cont(0.9) WITHIN GROUP (ORDER BY
		extract(epoch FROM first_response_at - started_at)::float8)
		AS ttfr_p90
FROM flags GROUP BY 1, 2 ORDER BY 1, 2;
