-- Minute slices for recent hours (docs/kpi-rollups.md, "Recent hours"):
-- an hour that keeps receiving events stays marked, and a read of a
-- marked hour aggregates all of it from the facts. The worker slices a
-- recent hour instead: it keeps rollup rows per UTC minute (span 's' in
-- kpi_rollup, marks span 's' in kpi_marks), so a read takes from the
-- facts only the minutes changed since their last refresh. A row here
-- says the hour is sliced: its minute rows and marks are maintained, and
-- a read uses them instead of the hour's. Two hours after its end the
-- worker builds the hour's rows and drops its slices.
CREATE TABLE kpi_sliced (
	tenant_id uuid NOT NULL,
	t         timestamptz NOT NULL,
	PRIMARY KEY (tenant_id, t)
);
