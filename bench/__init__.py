"""Benchmarks of the harness and the model, each run as ``python -m bench.NAME`` (``make bench`` runs all).

Timings go to ``results/bench/`` (see docs/harness.md); scored experiment records go through the
harness's results.json schema (see README, "Where records live").
"""
