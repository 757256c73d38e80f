"""Experiment definitions -> validated Katib manifests."""
