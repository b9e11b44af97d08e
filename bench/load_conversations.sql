-- bench/load_conversations.sql: synthetic conversation facts, straight into
-- the conversations table (the only table GET /v1/kpis reads), for the KPI
-- latency benchmark at a size that would take too long to send over HTTP.
--
--   psql -v tenant=UUID -v n=1000000 -v customers=100000 \
--        -v to=2026-11-21T00:00:00Z -v seed=0.42 -f bench/load_conversations.sql
--
-- Rows are what the ingest path would have computed for conversations of
-- the same shape as bench/ingest.c generates (same weights): starts over
-- the 30 days before :to (80 % between 07:00 and 21:00 UTC), 4 streams,
-- statuses, 5 channels, 7 topics, tiers, languages, product areas, two
-- A/B cohorts, three agent versions, ~:customers customers (20 % of
-- contacts skewed to a few heavy customers, 3 % anonymous) so repeat
-- contacts happen, 6 % of resolved conversations reopened 10 min to 36 h
-- later, CSAT on ~20 %, thumbs on ~11 %, grades on ~10 %, AI and human
-- costs, and repeat_gap_ms when the schema has it. Times are truncated to
-- the millisecond, as the service stores them. Events are not generated:
-- the KPI query does not read them.
\set ON_ERROR_STOP on
\pset tuples_only on
-- the generated rows go to a temporary table first (kept in memory)
SET temp_buffers = '1GB';
SELECT setseed(:seed);

\set cols 'tenant_id, conversation_id, started_at, last_event_at, customer_id, agent_version, channel, topic, customer_tier, language, product_area, cohort, ai_involved, human_involved, stream, escalated, escalated_at, escalation_reason, first_response_at, status, resolved_at, resolved_by, confirmed, ever_resolved, reopen_gap_ms, turns, customer_turns, ai_turns, human_turns, csat, thumbs, negative_feedback, sentiment_start, sentiment_end, clarifications, tool_calls, tool_failures, cost_usd, graded, resolution_correct, hallucination, quality_score, escalation_appropriate, failure_category, event_count'

CREATE TEMP TABLE gen AS
SELECT :'tenant'::uuid AS tenant_id, conversation_id,
	date_trunc('milliseconds', started_at) AS started_at,
	date_trunc('milliseconds',
	  coalesce(resolved_at, started_at + turns * interval '90 seconds')
	  + CASE WHEN csat IS NOT NULL OR thumbs IS NOT NULL
		 THEN interval '20 minutes' ELSE interval '0' END) AS last_event_at,
	customer_id, agent_version, channel, topic, customer_tier, language,
	product_area, cohort, ai_involved, human_involved, stream, escalated,
	date_trunc('milliseconds', escalated_at) AS escalated_at,
	escalation_reason,
	date_trunc('milliseconds', first_response_at) AS first_response_at,
	status,
	date_trunc('milliseconds', resolved_at) AS resolved_at,
	resolved_by, confirmed, ever_resolved, reopen_gap_ms,
	turns, customer_turns, ai_turns, human_turns, csat, thumbs,
	coalesce(csat <= 2, false) OR coalesce(thumbs = 'down', false)
	  AS negative_feedback,
	sentiment_start, sentiment_end, clarifications, tool_calls,
	tool_failures, cost_usd, graded, resolution_correct, hallucination,
	quality_score, escalation_appropriate, failure_category,
	2 + turns + tool_calls + (csat IS NOT NULL OR thumbs IS NOT NULL)::int
	  + graded::int + CASE WHEN reopen_gap_ms IS NULL THEN 0 ELSE 2 END
	  AS event_count
FROM (
  SELECT c.*,
	CASE WHEN status = 'resolved' THEN started_at
	  + CASE stream WHEN 'ai_only' THEN interval '30 seconds'
			  + r21 * r21 * interval '10 minutes'
			WHEN 'hybrid' THEN interval '5 minutes'
			  + r21 * r21 * interval '4 hours'
			ELSE interval '10 minutes' + r21 * r21 * interval '24 hours' END
	  + coalesce(reopen_gap_ms, 0) * interval '1 millisecond' END AS resolved_at,
	CASE WHEN status = 'resolved' THEN
	  CASE stream WHEN 'ai_only' THEN 'ai' ELSE 'human' END END AS resolved_by,
	CASE WHEN status = 'resolved' THEN r22 < 0.4 END AS confirmed,
	customer_turns + ai_turns + human_turns AS turns,
	CASE WHEN r25 < 0.20 THEN
	  CASE WHEN status = 'resolved'
	       THEN CASE WHEN r26 < 0.46 THEN 5 WHEN r26 < 0.81 THEN 4
			 WHEN r26 < 0.93 THEN 3 WHEN r26 < 0.97 THEN 2 ELSE 1 END
	       ELSE CASE WHEN r26 < 0.30 THEN 1 WHEN r26 < 0.55 THEN 2
			 WHEN r26 < 0.75 THEN 3 WHEN r26 < 0.90 THEN 4 ELSE 5 END
	  END END::smallint AS csat,
	CASE WHEN r25 < 0.25 AND (r25 >= 0.20 OR r40 < 0.3) THEN
	  CASE WHEN status = 'resolved' AND r26 < 0.8 THEN 'up' ELSE 'down' END
	END AS thumbs,
	CASE WHEN graded THEN
	  CASE WHEN status = 'resolved' THEN r36 < 0.9 ELSE r36 < 0.4 END
	END AS resolution_correct
  FROM (
    SELECT b.*,
	'c1m-' || lpad(i::text, 8, '0') AS conversation_id,
	stream IN ('ai_only', 'hybrid') AS ai_involved,
	stream IN ('hybrid', 'human_only') AS human_involved,
	stream = 'hybrid' AS escalated,
	CASE WHEN stream = 'hybrid' THEN started_at + interval '20 seconds'
	  + r14 * interval '10 minutes' END AS escalated_at,
	CASE WHEN stream = 'hybrid' THEN
	  CASE WHEN r15 < 0.35 THEN 'customer_requested'
	       WHEN r15 < 0.65 THEN 'ai_unable' WHEN r15 < 0.77 THEN 'policy'
	       WHEN r15 < 0.85 THEN 'sensitive'
	       WHEN r15 < 0.95 THEN 'authentication' ELSE 'other' END
	END AS escalation_reason,
	CASE stream WHEN 'none' THEN NULL
	  WHEN 'human_only' THEN started_at + interval '30 seconds'
	    + r16 * r16 * interval '30 minutes'
	  ELSE started_at + interval '1 second' + r16 * interval '5 seconds'
	END AS first_response_at,
	CASE WHEN base_status = 'resolved' AND r18 < 0.06 AND r20 < 0.2
	     THEN 'open' ELSE base_status END AS status,
	base_status = 'resolved' AS ever_resolved,
	CASE WHEN base_status = 'resolved' AND r18 < 0.06
	     THEN (600000 + r19 * 35.8 * 3600000)::bigint END AS reopen_gap_ms,
	1 + floor(r23 * 4)::int AS customer_turns,
	CASE WHEN stream IN ('ai_only', 'hybrid')
	     THEN 1 + floor(r23 * 4)::int ELSE 0 END AS ai_turns,
	CASE WHEN stream IN ('hybrid', 'human_only')
	     THEN 1 + floor(r24 * 3)::int ELSE 0 END AS human_turns,
	CASE WHEN r27 < 0.7 THEN -0.8 + 1.2 * r28 END AS sentiment_start,
	CASE WHEN r27 < 0.7
	     THEN least(1, greatest(-1, -0.8 + 1.2 * r28 - 0.3 + 0.8 * r29))
	END AS sentiment_end,
	CASE WHEN r30 < 0.02 THEN 2 WHEN r30 < 0.12 THEN 1 ELSE 0 END
	  AS clarifications,
	CASE WHEN stream IN ('ai_only', 'hybrid') THEN floor(r31 * 4)::int
	     ELSE 0 END AS tool_calls,
	CASE WHEN stream IN ('ai_only', 'hybrid') AND r32 < 0.05 * floor(r31 * 4)
	     THEN 1 ELSE 0 END AS tool_failures,
	CASE WHEN stream IN ('ai_only', 'hybrid')
	     THEN (1 + floor(r23 * 4)) * (0.002 + 0.028 * r33) ELSE 0 END
	+ CASE WHEN stream IN ('hybrid', 'human_only')
	       THEN (1 + floor(r24 * 3)) * (0.8 + 2.5 * r34) ELSE 0 END
	  AS cost_usd,
	stream IN ('ai_only', 'hybrid') AND r35 < 0.125 AS graded,
	CASE WHEN stream IN ('ai_only', 'hybrid') AND r35 < 0.125
	     THEN r37 < 0.04 END AS hallucination,
	CASE WHEN stream IN ('ai_only', 'hybrid') AND r35 < 0.125
	     THEN CASE WHEN r36 < 0.85 THEN 70 + 30 * r38 ELSE 20 + 50 * r38 END
	END AS quality_score,
	CASE WHEN stream = 'hybrid' AND r35 < 0.125 THEN r39 < 0.75 END
	  AS escalation_appropriate,
	CASE WHEN stream IN ('ai_only', 'hybrid') AND r35 < 0.125 AND r36 >= 0.85
	     THEN CASE WHEN r41 < 0.35 THEN 'knowledge'
		       WHEN r41 < 0.60 THEN 'reasoning' WHEN r41 < 0.75 THEN 'tool'
		       WHEN r41 < 0.90 THEN 'workflow' ELSE 'communication' END
	END AS failure_category
    FROM (
      SELECT a.*,
	CASE WHEN r1 < 0.55 THEN 'ai_only' WHEN r1 < 0.80 THEN 'hybrid'
	     WHEN r1 < 0.93 THEN 'human_only' ELSE 'none' END AS stream,
	date_trunc('day', :'to'::timestamptz) - interval '30 days'
	  + floor(r2 * 30) * interval '1 day'
	  + CASE WHEN r3 < 0.8 THEN interval '7 hours' + r4 * interval '14 hours'
		 ELSE r4 * interval '24 hours' END AS started_at,
	CASE WHEN r5 < 0.03 THEN NULL
	     ELSE 'cust-' || lpad(floor(CASE WHEN r5 < 0.23 THEN r6 * r6 ELSE r6 END
				  * :customers)::bigint::text, 6, '0')
	END AS customer_id,
	CASE WHEN r7 < 0.45 THEN 'chat' WHEN r7 < 0.70 THEN 'email'
	     WHEN r7 < 0.85 THEN 'whatsapp' WHEN r7 < 0.95 THEN 'voice'
	     ELSE 'web_form' END AS channel,
	CASE WHEN r8 < 0.22 THEN 'billing' WHEN r8 < 0.42 THEN 'shipping'
	     WHEN r8 < 0.56 THEN 'returns' WHEN r8 < 0.72 THEN 'account'
	     WHEN r8 < 0.86 THEN 'technical' WHEN r8 < 0.95 THEN 'product'
	     ELSE 'other' END AS topic,
	CASE WHEN r9 < 0.6 THEN 'free' WHEN r9 < 0.9 THEN 'pro'
	     ELSE 'enterprise' END AS customer_tier,
	CASE WHEN r10 < 0.60 THEN 'en' WHEN r10 < 0.75 THEN 'de'
	     WHEN r10 < 0.85 THEN 'fr' WHEN r10 < 0.95 THEN 'es'
	     ELSE 'it' END AS language,
	CASE WHEN r11 < 0.25 THEN 'checkout' WHEN r11 < 0.50 THEN 'subscriptions'
	     WHEN r11 < 0.75 THEN 'logistics' WHEN r11 < 0.90 THEN 'mobile_app'
	     ELSE 'hardware' END AS product_area,
	CASE WHEN r12 < 0.5 THEN 'agent-a' ELSE 'agent-b' END AS cohort,
	CASE WHEN r13 < 0.2 THEN 'v1.4.2' WHEN r13 < 0.7 THEN 'v1.5.0'
	     ELSE 'v1.5.1' END AS agent_version,
	CASE WHEN r1 < 0.55 THEN
	       CASE WHEN r17 < 0.82 THEN 'resolved' WHEN r17 < 0.95 THEN 'abandoned'
		    ELSE 'open' END
	     WHEN r1 < 0.80 THEN
	       CASE WHEN r17 < 0.85 THEN 'resolved' WHEN r17 < 0.95 THEN 'abandoned'
		    ELSE 'open' END
	     WHEN r1 < 0.93 THEN
	       CASE WHEN r17 < 0.80 THEN 'resolved' WHEN r17 < 0.90 THEN 'abandoned'
		    ELSE 'open' END
	     ELSE CASE WHEN r17 < 0.7 THEN 'abandoned' ELSE 'open' END
	END AS base_status
      FROM (
	-- volatile random() in a subquery's select list: evaluated per row
	SELECT i,
	  random() r1, random() r2, random() r3, random() r4, random() r5,
	  random() r6, random() r7, random() r8, random() r9, random() r10,
	  random() r11, random() r12, random() r13, random() r14, random() r15,
	  random() r16, random() r17, random() r18, random() r19, random() r20,
	  random() r21, random() r22, random() r23, random() r24, random() r25,
	  random() r26, random() r27, random() r28, random() r29, random() r30,
	  random() r31, random() r32, random() r33, random() r34, random() r35,
	  random() r36, random() r37, random() r38, random() r39, random() r40,
	  random() r41
	FROM generate_series(1, :n) AS i
      ) a
    ) b
  ) c
) d;

-- Repeat contacts, when the schema stores them (migration 0004,
-- repeat_gap_ms): for a resolved conversation with a customer, the time
-- from resolved_at to the start of the customer's next conversation with a
-- compatible topic. Every generated conversation has a topic, so
-- compatible means the same topic here. Computed on the temporary table
-- with an index, then inserted with the rest (no UPDATE afterwards).
SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = 'conversations'
		  AND column_name = 'repeat_gap_ms') AS has_repeat_gap \gset
\if :has_repeat_gap
CREATE INDEX ON gen (customer_id, topic, started_at);
ANALYZE gen;
INSERT INTO conversations (:cols, repeat_gap_ms)
SELECT :cols,
	CASE WHEN g.status = 'resolved' AND g.customer_id IS NOT NULL THEN
	  (SELECT (extract(epoch FROM o.started_at - g.resolved_at) * 1000)::bigint
	     FROM gen o
	    WHERE o.customer_id = g.customer_id AND o.topic = g.topic
	      AND o.started_at > g.resolved_at
	    ORDER BY o.started_at LIMIT 1)
	END
  FROM gen g;
\else
INSERT INTO conversations (:cols) SELECT :cols FROM gen;
\endif
DROP TABLE gen;
