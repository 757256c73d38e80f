"""The Argo CD health check for PyTorchJob trials, run in a sandboxed Lua 5.1 runtime."""

# Assertions put the expected value first (house style), which SIM300 flags.
# ruff: noqa: SIM300

from __future__ import annotations

import pytest

from tests.argocd.lua_health import VALID_STATUSES, health_of
from tests.support.katib import NAMESPACE
from tests.support.sdk_models import unknown_fields
from tests.support.training_jobs import (
    JOB_NAME,
    job_condition,
    job_status,
    pytorchjob,
    replica_statuses,
)

JOB = f"{NAMESPACE}/{JOB_NAME}"
CREATED = job_condition("Created", "True", "PyTorchJobCreated", f"PyTorchJob {JOB} is created.")
RUNNING = job_condition("Running", "True", "PyTorchJobRunning", f"PyTorchJob {JOB} is running.")
NOT_RUNNING = {**RUNNING, "status": "False"}

STATES = {
    "created": job_status([CREATED]),
    "running": job_status([CREATED, RUNNING], replica_statuses({"active": 1}, {"active": 1})),
    "restarting": job_status(
        [
            CREATED,
            job_condition(
                "Restarting",
                "True",
                "PyTorchJobRestarting",
                f"PyTorchJob {JOB} is restarting because 1 Worker replica(s) failed.",
            ),
        ],
        replica_statuses({"active": 1}, {"failed": 1}),
    ),
    "succeeded": job_status(
        [
            CREATED,
            NOT_RUNNING,
            job_condition(
                "Succeeded",
                "True",
                "PyTorchJobSucceeded",
                f"PyTorchJob {JOB} successfully completed.",
            ),
        ],
        replica_statuses({"succeeded": 1}, {"succeeded": 1}),
    ),
    "failed": job_status(
        [
            CREATED,
            NOT_RUNNING,
            job_condition(
                "Failed",
                "True",
                "PyTorchJobFailed",
                f"PyTorchJob {JOB} has failed because 1 Worker replica(s) failed.",
            ),
        ],
        replica_statuses({"active": 1}, {"failed": 1}),
    ),
    "suspended": job_status(
        [
            CREATED,
            NOT_RUNNING,
            job_condition(
                "Suspended", "True", "PyTorchJobSuspended", f"PyTorchJob {JOB} is suspended."
            ),
        ]
    ),
}


def pytorchjob_health(status: dict | None) -> dict:
    return health_of("pytorchjob.lua", pytorchjob(status))


class TestFixturesAreRealPyTorchJobs:
    """The objects the checks run against use only fields the training-operator SDK knows, and
    a field it does not know is caught."""

    @pytest.mark.parametrize("state", sorted(STATES))
    def test_every_field_is_in_the_training_operator_model(self, state):
        assert [] == unknown_fields(pytorchjob(STATES[state]), "KubeflowOrgV1PyTorchJob")

    def test_the_builder_refuses_a_misspelt_field(self):
        status = {**STATES["running"], "replicaStatus": STATES["running"]["replicaStatuses"]}
        with pytest.raises(ValueError, match=r"KubeflowOrgV1PyTorchJob .*\.status\.replicaStatus$"):
            pytorchjob(status)


class TestPyTorchJobStates:
    """Each state the training operator reports maps to the right health and message."""

    def test_no_status_yet_is_progressing(self):
        assert {
            "status": "Progressing",
            "message": "Waiting for the training operator to create the replicas",
        } == pytorchjob_health(None)

    def test_created_is_progressing_with_the_operators_message(self):
        assert {
            "status": "Progressing",
            "message": f"PyTorchJob {JOB} is created.",
        } == pytorchjob_health(STATES["created"])

    def test_running_lists_active_replicas(self):
        assert {
            "status": "Progressing",
            "message": f"PyTorchJob {JOB} is running. (Master: 1 active; Worker: 1 active)",
        } == pytorchjob_health(STATES["running"])

    def test_restarting_is_progressing_and_says_why(self):
        health = pytorchjob_health(STATES["restarting"])
        assert "Progressing" == health["status"]
        assert (
            f"PyTorchJob {JOB} is restarting because 1 Worker replica(s) failed. "
            "(Master: 1 active; Worker: 1 failed)"
        ) == health["message"]

    def test_succeeded_is_healthy(self):
        assert {
            "status": "Healthy",
            "message": f"PyTorchJob {JOB} successfully completed. "
            "(Master: 1 succeeded; Worker: 1 succeeded)",
        } == pytorchjob_health(STATES["succeeded"])

    def test_failed_is_degraded(self):
        health = pytorchjob_health(STATES["failed"])
        assert "Degraded" == health["status"]
        assert health["message"].startswith(f"PyTorchJob {JOB} has failed because")

    def test_suspended_is_suspended(self):
        assert {
            "status": "Suspended",
            "message": f"PyTorchJob {JOB} is suspended.",
        } == pytorchjob_health(STATES["suspended"])

    def test_condition_without_message_falls_back_to_its_reason(self):
        bare = {"type": "Failed", "status": "True", "reason": "PyTorchJobFailed"}
        assert {"status": "Degraded", "message": "PyTorchJobFailed"} == pytorchjob_health(
            job_status([CREATED, bare])
        )

    @pytest.mark.parametrize("state", sorted(STATES))
    def test_status_is_one_argo_cd_accepts(self, state):
        assert pytorchjob_health(STATES[state])["status"] in VALID_STATUSES
