-- What each run reports (the markdown table also published as a Prefect artifact) and how long each source's
-- crawl took, for the run report and alerts.
ALTER TABLE crawl_runs ADD COLUMN report VARCHAR;
ALTER TABLE source_runs ADD COLUMN crawl_s DOUBLE;
