"""`python -m results <name>`: the same command as `hpo results <name>`."""

import sys

from results.cli import main

raise SystemExit(main(["results", *sys.argv[1:]]))
