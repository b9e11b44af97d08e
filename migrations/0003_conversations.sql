-- Conversation facts (metrics-spec section 2), maintained by the ingest
-- path in the same transaction as the events. Window-dependent facts are
-- stored window-free: reopen_gap_ms is the smallest gap between a resolve
-- and a later reopen; repeat contacts are found at query time.
CREATE TABLE conversations (
	tenant_id              uuid NOT NULL,
	conversation_id        text COLLATE "C" NOT NULL,
	started_at             timestamptz,
	last_event_at          timestamptz,
	customer_id            text,
	agent_version          text,
	channel                text,
	topic                  text,
	customer_tier          text,
	language               text,
	product_area           text,
	cohort                 text,
	ai_involved            boolean,
	human_involved         boolean,
	stream                 text,
	escalated              boolean,
	escalated_at           timestamptz,
	escalation_reason      text,
	first_response_at      timestamptz,
	status                 text,
	resolved_at            timestamptz,
	resolved_by            text,
	confirmed              boolean,
	ever_resolved          boolean,
	reopen_gap_ms          bigint,
	turns                  integer,
	customer_turns         integer,
	ai_turns               integer,
	human_turns            integer,
	csat                   smallint,
	thumbs                 text,
	negative_feedback      boolean,
	sentiment_start        double precision,
	sentiment_end          double precision,
	clarifications         integer,
	tool_calls             integer,
	tool_failures          integer,
	cost_usd               double precision,
	graded                 boolean,
	resolution_correct     boolean,
	hallucination          boolean,
	quality_score          double precision,
	escalation_appropriate boolean,
	failure_category       text,
	event_count            integer,
	PRIMARY KEY (tenant_id, conversation_id)
);

CREATE INDEX conversations_by_start ON conversations (tenant_id, started_at);
CREATE INDEX conversations_by_customer
	ON conversations (tenant_id, customer_id, started_at)
	WHERE customer_id IS NOT NULL;
