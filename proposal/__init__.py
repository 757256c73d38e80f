"""Propose files in Git: commit them on a deterministic branch with real git, and make sure one
pull request (GitHub) or merge request (GitLab) shows them, through the forges' REST APIs."""
