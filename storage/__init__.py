"""DuckDB storage: schema migrations, bulk loading, queries and the raw archive format.

All SQL of the project lives in this package; nothing above it builds SQL text.
"""
