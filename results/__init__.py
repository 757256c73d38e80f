"""The results of an experiment: the model of `results.yaml`, typed from Katib's objects or the
local runner's trials, written as results.yaml, report.md and a chart, and the results Job
(`hpo results`) that reads the cluster (`katib`) and proposes the files (`proposal`).

Layered so each part can be used and tested alone: `model` (pure data), `render` and `files`
(the writer the local runner shares), `katib_objects` (Katib's objects into the model), `budget`,
`publish` and `cli`.
"""

from generator.moved import keep_old_paths

# Reading Katib and proposing branches were once modules here; these import paths keep working.
keep_old_paths(
    {
        "results.kube": "katib.client",
        "results.katib": "katib.watch",
        "results.git": "proposal.git",
        "results.forge": "proposal.forge",
        "results.propose": "proposal.propose",
    }
)
