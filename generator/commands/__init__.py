"""What each `hpo` subcommand does over the repository: find the definitions, check and render
them all, the checks that span experiments (GPU quota, changes against a base), and the
summary a pull request shows."""
