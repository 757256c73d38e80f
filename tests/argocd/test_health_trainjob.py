"""The Argo CD health check for Trainer v2 TrainJob trials, run in a sandboxed Lua 5.1 runtime.

Conditions are the ones the Trainer controller writes: Suspended (reasons Suspended, Resumed),
Complete and Failed copied from the JobSet (reasons AllJobsCompleted, FailedJobs), Failed with
DeadlineExceeded of its own, and Created (JobsCreationSucceeded) from early builds.
"""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import itertools

import pytest

from tests.argocd.lua_health import VALID_STATUSES, health_of
from tests.support.training_jobs import (
    JOB_NAME,
    child_job,
    trainjob,
    trainjob_condition,
    trainjob_status,
    unknown_trainer_fields,
)

WAITING = "Waiting for the Trainer controller to create the JobSet"
RESUMED = trainjob_condition("Suspended", "False", "Resumed", "TrainJob is resumed")
FIRST_FAILED = (
    f"jobset failed due to one or more job failures (first failed job: {JOB_NAME}-node-0)"
)

STATES = {
    "jobset created": trainjob_status([], [child_job()]),
    "running": trainjob_status([], [child_job(active=1, ready=1)]),
    "resumed": trainjob_status([RESUMED], [child_job(active=1)]),
    "created (early builds)": trainjob_status(
        [
            trainjob_condition(
                "Created", "True", "JobsCreationSucceeded", "Succeeded to create Jobs"
            )
        ],
        [child_job(active=1)],
    ),
    "complete": trainjob_status(
        [
            RESUMED,
            trainjob_condition(
                "Complete", "True", "AllJobsCompleted", "jobset completed successfully"
            ),
        ],
        [child_job(succeeded=1)],
    ),
    "failed": trainjob_status(
        [RESUMED, trainjob_condition("Failed", "True", "FailedJobs", FIRST_FAILED)],
        [child_job(failed=1)],
    ),
    "deadline exceeded": trainjob_status(
        [
            trainjob_condition(
                "Failed", "True", "DeadlineExceeded", "TrainJob exceeded its active deadline"
            )
        ],
        [child_job(active=1, ready=1)],
    ),
    "suspended": trainjob_status(
        [trainjob_condition("Suspended", "True", "Suspended", "TrainJob is suspended")],
        [child_job(suspended=1)],
    ),
}


def trainjob_health(status: dict | None) -> dict:
    return health_of("trainjob.lua", trainjob(status))


class TestFixturesAreRealTrainJobs:
    """The objects the checks run against validate against the Trainer API models and use only
    fields they know; a misspelt field or a wrong type is caught."""

    @pytest.mark.parametrize("state", sorted(STATES))
    def test_every_field_is_in_the_trainer_model(self, state):
        assert [] == unknown_trainer_fields(trainjob(STATES[state]))

    def test_the_builder_refuses_a_misspelt_field(self):
        status = {"jobStatus": STATES["running"]["jobsStatus"]}
        with pytest.raises(ValueError, match=r"TrainerV1alpha1TrainJob .*\.status\.jobStatus$"):
            trainjob(status)

    def test_the_builder_refuses_a_misspelt_count(self):
        job = {**child_job(), "activ": 1}
        with pytest.raises(ValueError, match=r"\.status\.jobsStatus\[0\]\.activ$"):
            trainjob(trainjob_status([], [job]))

    def test_the_builder_refuses_a_count_that_is_not_a_number(self):
        with pytest.raises(ValueError, match="jobsStatus"):
            trainjob(trainjob_status([], [child_job(active="1")]))


class TestBeforeTheController:
    """A TrainJob the controller has not written a status for is on its way."""

    def test_no_status_yet_is_progressing(self):
        assert {"status": "Progressing", "message": WAITING} == trainjob_health(None)

    def test_no_condition_and_no_jobs_is_still_waiting(self):
        assert {"status": "Progressing", "message": WAITING} == trainjob_health(
            trainjob_status([], [])
        )


class TestRunning:
    """While the JobSet runs the TrainJob is Progressing, with the child jobs' counts."""

    def test_a_jobset_without_counts_yet(self):
        assert {"status": "Progressing", "message": "JobSet created"} == trainjob_health(
            STATES["jobset created"]
        )

    def test_running_lists_active_and_ready_jobs(self):
        assert {
            "status": "Progressing",
            "message": "JobSet created (node: 1 active, 1 ready)",
        } == trainjob_health(STATES["running"])

    def test_created_condition_of_early_builds_gives_the_message(self):
        assert {
            "status": "Progressing",
            "message": "Succeeded to create Jobs (node: 1 active)",
        } == trainjob_health(STATES["created (early builds)"])


class TestFinished:
    """Complete is Healthy, Failed is Degraded, each with the controller's message."""

    def test_complete_is_healthy(self):
        assert {
            "status": "Healthy",
            "message": "jobset completed successfully (node: 1 succeeded)",
        } == trainjob_health(STATES["complete"])

    def test_failed_is_degraded_with_the_controllers_message(self):
        assert {
            "status": "Degraded",
            "message": f"{FIRST_FAILED} (node: 1 failed)",
        } == trainjob_health(STATES["failed"])

    def test_deadline_exceeded_is_degraded(self):
        assert {
            "status": "Degraded",
            "message": "TrainJob exceeded its active deadline (node: 1 active, 1 ready)",
        } == trainjob_health(STATES["deadline exceeded"])

    def test_condition_with_an_empty_message_falls_back_to_its_reason(self):
        bare = trainjob_condition("Failed", "True", "FailedJobs", "")
        assert {"status": "Degraded", "message": "FailedJobs"} == trainjob_health(
            trainjob_status([bare])
        )


class TestSuspended:
    """A suspended TrainJob is Suspended; once resumed, the False condition no longer counts."""

    def test_suspended_is_suspended(self):
        assert {
            "status": "Suspended",
            "message": "TrainJob is suspended (node: 1 suspended)",
        } == trainjob_health(STATES["suspended"])

    def test_a_false_condition_is_ignored(self):
        assert {
            "status": "Progressing",
            "message": "JobSet created (node: 1 active)",
        } == trainjob_health(STATES["resumed"])

    @pytest.mark.parametrize("kind", ["Complete", "Failed", "Suspended", "Created"])
    def test_no_false_condition_sets_status_or_message(self, kind):
        condition = trainjob_condition(kind, "False", f"Not{kind}", f"not {kind}")
        assert {"status": "Progressing", "message": "JobSet created (node: 1 active)"} == (
            trainjob_health(trainjob_status([condition], [child_job(active=1)]))
        )


class TestStableMessage:
    """The message lists child jobs by name, so it is the same whatever order they come in."""

    JOBS = [
        child_job("node", active=1, ready=1),
        child_job("dataset-initializer", succeeded=1),
        child_job("model-initializer", succeeded=1),
    ]

    @pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
    def test_every_order_gives_one_message(self, order):
        jobs = [self.JOBS[i] for i in order]
        assert {
            "status": "Progressing",
            "message": "JobSet created (dataset-initializer: 1 succeeded; "
            "model-initializer: 1 succeeded; node: 1 active, 1 ready)",
        } == trainjob_health(trainjob_status([], jobs))


class TestArgoCdContract:
    """Whatever the state, the script returns a status Argo CD accepts and a message."""

    @pytest.mark.parametrize("state", [None, *sorted(STATES)])
    def test_status_is_one_argo_cd_accepts(self, state):
        health = trainjob_health(None if state is None else STATES[state])
        assert health["status"] in VALID_STATUSES
        assert health["message"]
