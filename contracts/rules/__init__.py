"""Domain and cross-dataset rules as SQL predicates and Great Expectations custom expectations, run inside DuckDB."""
