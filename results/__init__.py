"""Katib results -> results files -> git branch -> pull request.

Layered so each part can be used and tested alone: `model` (pure data), `files` (the writer the
local runner shares), `katib` (reading the cluster), `git` and `forge` (publishing), `cli`.
"""
