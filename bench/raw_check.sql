-- bench/raw_check.sql: compares raw_result (raw_kpis.sql, same session)
-- with the API's reply to the same request. Prints one line:
-- "groups=N mismatches=M", M counting every group whose numbers differ
-- (counts exactly, percentiles within 1 % relative: the API reads them
-- from histograms, as metrics-spec allows) or that one side
-- lacks. The API's empty time-series buckets are not compared.
--
--   \set api `cat reply.json`
--   psql ... -v series=0|1 -v g1=channel -v g2='' -f raw_check.sql
WITH api AS (
	SELECT CASE WHEN :series = 1
			THEN (p->>'t')::timestamptz::text ELSE g->'key'->>:'g1' END AS k1,
		CASE WHEN :series = 1 THEN NULL ELSE g->'key'->>:'g2' END AS k2,
		CASE WHEN :series = 1 THEN NULL
			ELSE (g->'metrics'->>'conversations')::bigint END AS conversations,
		coalesce(p->'den', g->'metrics'->'deflection_rate'->'den')::bigint
			AS ai_involved,
		(g->'metrics'->'deflection_rate'->>'num')::bigint AS deflected,
		(g->'metrics'->'containment_rate'->>'num')::bigint AS contained,
		coalesce(p->'num', g->'metrics'->'true_resolution_rate'->'num')::bigint
			AS truly_resolved,
		(g->'metrics'->'escalation_rate'->>'num')::bigint AS escalated,
		(g->'metrics'->'time_to_first_response_s'->>'p50')::float8 AS ttfr_p50,
		(g->'metrics'->'time_to_first_response_s'->>'p90')::float8 AS ttfr_p90
	FROM jsonb_array_elements(coalesce(:'api'::jsonb->'groups',
		:'api'::jsonb->'series')) AS g
	LEFT JOIN LATERAL jsonb_array_elements(g->'points') AS p ON :series = 1
	WHERE :series = 0 OR (p->'den')::bigint > 0
),
raw AS (
	SELECT CASE WHEN :series = 1 THEN k1::timestamptz::text ELSE k1 END AS k1,
		CASE WHEN :series = 1 THEN NULL ELSE k2 END AS k2, conversations,
		ai_involved, deflected, contained, truly_resolved, escalated,
		ttfr_p50, ttfr_p90
	FROM raw_result
	WHERE :series = 0 OR ai_involved > 0
),
cmp AS (
	SELECT a.ai_involved IS NULL AS api_missing,
		r.ai_involved IS NULL AS raw_missing, a, r
	FROM api a FULL JOIN raw r
	  ON coalesce(a.k1, '(null)') = coalesce(r.k1, '(null)')
	 AND coalesce(a.k2, '(null)') = coalesce(r.k2, '(null)')
)
SELECT 'groups=' || count(*) || ' mismatches=' || count(*) FILTER (WHERE
	api_missing OR raw_missing
	OR (:series = 0 AND ((a).conversations, (a).deflected, (a).contained,
		(a).escalated) IS DISTINCT FROM ((r).conversations, (r).deflected,
		(r).contained, (r).escalated))
	OR ((a).ai_involved, (a).truly_resolved)
		IS DISTINCT FROM ((r).ai_involved, (r).truly_resolved)
	OR (:series = 0 AND (abs((a).ttfr_p50 - (r).ttfr_p50)
		> 0.01 * abs((r).ttfr_p50) OR abs((a).ttfr_p90 - (r).ttfr_p90)
		> 0.01 * abs((r).ttfr_p90))))
FROM cmp;
