"""Benchmarks of the dashboard's hot paths, side by side with their alternatives (`make bench`)."""
