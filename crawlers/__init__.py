"""The Scrapy project: spiders, middlewares and the item pipeline that writes the raw archive.

It knows nothing of trafilatura, Prefect or DuckDB. The flow starts it as a subprocess
(`python -m crawlers.run PLAN.json`) because Twisted's reactor cannot be restarted in one process.
"""
