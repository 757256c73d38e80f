"""Experiment definitions -> validated Katib manifests, and the `hpo` command.

Four layers, each importing only the ones before it: `loading` (YAML 1.2 with positions, the
definition into `spec`'s models, the repository's clusters and images), `checks` (one definition
against the rules, the installed libraries and its budget), `rendering` (the spec through the
jsonnet templates into objects that `validate` checks), and `commands` (what each `hpo`
subcommand does over the whole repository). `errors` and `files` serve them all.
"""

from generator.moved import keep_old_paths

# The modules' homes before the layers; these import paths keep working.
keep_old_paths(
    {
        "generator.yamlload": "generator.loading.yamlload",
        "generator.definition": "generator.loading.definition",
        "generator.repo_config": "generator.loading.repo_config",
        "generator.source_checks": "generator.checks.sources",
        "generator.trainer_checks": "generator.checks.trainer",
        "generator.algorithms": "generator.checks.algorithms",
        "generator.hf_fields": "generator.checks.hf_fields",
        "generator.secrets_scan": "generator.checks.secrets",
        "generator.cost": "generator.checks.cost",
        "generator.render": "generator.rendering.render",
        "generator.manifest_params": "generator.rendering.manifest_params",
        "generator.warm_start": "generator.rendering.warm_start",
        "generator.training_view": "generator.rendering.training_view",
        "generator.project": "generator.commands.project",
        "generator.quota": "generator.commands.quota",
        "generator.immutability": "generator.commands.immutability",
        "generator.summary": "generator.commands.summary",
        "generator.pin": "generator.commands.pin",
        "generator.katib_config": "generator.commands.katib_config",
        "generator.manifest_check": "generator.commands.manifest_check",
        "generator.schemas": "generator.commands.schemas",
    }
)
