"""Benchmarks (``make bench``): not tests; they print a table of measured numbers."""
