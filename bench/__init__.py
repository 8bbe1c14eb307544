"""Benchmarks: `python -m bench [--quick]` runs them all and prints one table (see bench/report.py)."""
