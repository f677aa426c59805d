"""Benchmarks: `python -m bench <name>` (or `make bench`) prints a table of measured figures."""
