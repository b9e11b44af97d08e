-- The worker looks for the oldest marked hour (or day) of any tenant:
-- an index by span and time answers that without reading every mark.
CREATE INDEX kpi_marks_by_span ON kpi_marks (span, t);
