"""ForgeSettings: the one reader of the forge settings, for the results Job and the client."""

from __future__ import annotations

import pytest

from proposal.errors import ForgeSettingsError
from proposal.settings import ForgeSettings, base_branch

ENVIRONMENT = {
    "HPO_FORGE": "gitlab",
    "HPO_FORGE_API_URL": "https://gitlab.example.org/api/v4",
    "HPO_REPO": "ml/hpo",
    "HPO_FORGE_TOKEN": "glpat-secret",
    "HPO_BASE_BRANCH": "release",
}


class TestFromEnvironment:
    """Each given value wins over its variable; an empty value counts as not given."""

    def test_every_setting_from_its_variable(self):
        expected = ForgeSettings(
            forge="gitlab",
            api_url="https://gitlab.example.org/api/v4",
            repo="ml/hpo",
            token="glpat-secret",
            base_branch="release",
        )
        assert expected == ForgeSettings.from_environment(environ=ENVIRONMENT)

    def test_given_values_win_and_empty_ones_do_not(self):
        settings = ForgeSettings.from_environment(
            forge="github", repo="", base_branch=None, environ=ENVIRONMENT
        )
        assert ("github", "ml/hpo", "release") == (
            settings.forge,
            settings.repo,
            settings.base_branch,
        )

    def test_defaults_without_the_optional_variables(self):
        settings = ForgeSettings.from_environment(
            environ={"HPO_FORGE": "github", "HPO_REPO": "o/r", "HPO_FORGE_TOKEN": "t"}
        )
        assert (None, "main") == (settings.api_url, settings.base_branch)

    def test_every_missing_setting_is_named(self):
        with pytest.raises(ForgeSettingsError) as raised:
            ForgeSettings.from_environment(environ={"HPO_REPO": "o/r"})
        assert ("forge", "token") == raised.value.missing
        expected = "forge settings: missing forge (HPO_FORGE), token (HPO_FORGE_TOKEN)"
        assert expected == str(raised.value)

    def test_an_unknown_forge_is_refused(self):
        with pytest.raises(ForgeSettingsError, match="must be github or gitlab, not 'gitea'") as e:
            ForgeSettings.from_environment(environ={**ENVIRONMENT, "HPO_FORGE": "gitea"})
        assert () == e.value.missing


class TestTheType:
    def test_the_token_is_never_shown(self):
        settings = ForgeSettings.from_environment(environ=ENVIRONMENT)
        assert "glpat-secret" not in repr(settings)

    def test_built_directly_it_checks_the_same_rules(self):
        with pytest.raises(ForgeSettingsError, match=r"missing repo \(HPO_REPO\)"):
            ForgeSettings(forge="github", repo="", token="t")

    def test_the_base_branch_has_one_reader(self):
        assert "release" == base_branch(ENVIRONMENT)
        assert "main" == base_branch({"HPO_BASE_BRANCH": ""})
