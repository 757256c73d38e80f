"""`hpo tune --local`: run an experiment's rendered trial commands as local processes."""
