"""The flow: the stages called in order (ingest, dbt build, gate and publish, catalog registration)."""
