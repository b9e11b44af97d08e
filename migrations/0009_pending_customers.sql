-- The customer of the event behind each pending mark, so the worker can
-- lock the customers a derivation touches without reading the events.
ALTER TABLE facts_pending ADD COLUMN customer_id text;
