"""Searches replayed on recorded learning curves, at simulated time, with no training.

`table` reads the learning-curve table (every configuration of a grid trained once in full),
`simulate` runs one search (an arm, a seed) against it with parallel workers, asking the real
`suggestion.sampling.next_assignments` for each trial, and `summary` turns many runs into
medians and interquartile ranges. `benchmarks/curve_replay.py` is the command.
"""
