-- Views for everyday questions: what came in per day, how each source is doing, what is new.
CREATE VIEW daily_counts AS
SELECT CAST(coalesce(published_at, first_seen_at) AS DATE) AS day,  -- UTC day (connections run in UTC)
       source,
       language,
       count(*) AS articles
FROM articles
GROUP BY ALL;

CREATE VIEW sources_health AS
WITH runs AS (
    SELECT s.source,
           count(*) AS runs,
           max(r.started_at) AS last_run_at,
           -- a run in which the source answered with more than errors
           max(r.finished_at) FILTER (WHERE s.fetched > s.errors) AS last_success_at,
           avg(s.articles_new + s.articles_updated) AS articles_per_run
    FROM source_runs s JOIN crawl_runs r USING (run_id)
    WHERE r.finished_at IS NOT NULL
    GROUP BY s.source
), requests AS (
    SELECT source,
           count(*) FILTER (WHERE outcome IN ('http_error', 'error', 'blocked')) / count(*) AS error_rate
    FROM pages
    WHERE outcome <> 'robots'  -- never requested
    GROUP BY source
), failing AS (
    SELECT source, count(*) AS failing_urls FROM url_state WHERE fail_count > 0 GROUP BY source
), stored AS (
    SELECT source, count(*) AS articles FROM articles GROUP BY source
)
SELECT runs.source, runs.runs, runs.last_run_at, runs.last_success_at, runs.articles_per_run,
       coalesce(requests.error_rate, 0) AS error_rate,
       coalesce(failing.failing_urls, 0) AS failing_urls,
       coalesce(stored.articles, 0) AS articles
FROM runs
LEFT JOIN requests USING (source)
LEFT JOIN failing USING (source)
LEFT JOIN stored USING (source);

CREATE VIEW latest_articles AS
SELECT coalesce(published_at, first_seen_at) AS published_at, source, language, title, url, article_id,
       cluster_id, relevance, word_count, first_seen_at
FROM articles
ORDER BY coalesce(published_at, first_seen_at) DESC, article_id;
