"""What the notebook client reads from the cluster, in the types Katib's SDK returns.

The objects come from the project's one Kubernetes client (katib.client, pykube-ng) and are
turned into `kubeflow.katib` models with Katib's own deserializer, so code written for Katib's
`KatibClient` finds the attributes it expects (`experiment.status.conditions`,
`trial.spec.parameter_assignments`, ...).
"""

from __future__ import annotations

import json
from typing import Any

from client.errors import ClientError

# Trial metric logs come from Katib's DB manager, which Katib installs at this address.
DB_MANAGER_ADDRESS = "katib-db-manager.kubeflow:6789"


def katib_models():
    try:
        from kubeflow.katib import ApiClient, models
    except ImportError as e:
        raise ClientError(
            "Katib's return types need the kubeflow-katib SDK: pip install '.[client]'"
        ) from e
    return ApiClient, models


class _Answer:
    """What Katib's deserializer reads: the JSON text of an API answer."""

    def __init__(self, obj: Any):
        self.data = json.dumps(obj)


def as_katib(obj: Any, model: str) -> Any:
    """A Kubernetes JSON object as the `kubeflow.katib` model `model` (e.g. V1beta1Experiment)."""
    api_client, _ = katib_models()
    return api_client().deserialize(_Answer(obj), model)


class ClusterReads:
    """Katib objects of the client's cluster (its kubeconfig and context), read on demand."""

    def __init__(self, config_file: str | None, context: str | None):
        self.config_file = config_file
        self.context = context

    def objects(self, namespace: str, apiserver_timeout: float = 120, **options: Any):
        from katib.watch import KatibWatcher, kube_api
        from results.errors import KubernetesError

        try:
            api = kube_api(self.config_file, context=self.context, timeout_s=apiserver_timeout)
        except KubernetesError as e:
            raise ClientError(str(e)) from None
        return KatibWatcher(api, namespace, **options)

    def read(self, what, namespace: str, timeout: float, missing: str | None = None):
        """Run `what(objects)`; the cluster's errors become ClientError, a missing object's
        saying `missing` when given."""
        from results.errors import ExperimentNotFound, KubernetesError

        try:
            return what(self.objects(namespace, timeout))
        except ExperimentNotFound as e:
            raise ClientError(missing or str(e)) from None
        except KubernetesError as e:
            raise ClientError(str(e)) from None

    def trial_metrics(self, name: str, address: str, timeout: float) -> list[Any]:
        """Every metric report of a trial, from Katib's DB manager over gRPC, as Katib returns
        them (`katib_api_pb2.MetricLog` messages)."""
        import grpc
        from kubeflow.katib import katib_api_pb2, katib_api_pb2_grpc

        with grpc.insecure_channel(address) as channel:
            stub = katib_api_pb2_grpc.DBManagerStub(channel)
            try:
                answer = stub.GetObservationLog(
                    katib_api_pb2.GetObservationLogRequest(trial_name=name), timeout=timeout
                )
            except grpc.RpcError as e:
                raise ClientError(
                    f"cannot read the metrics of Trial {name} from Katib's DB manager at "
                    f"{address}: {e.code().name}: {e.details()}"
                ) from None
        return list(answer.observation_log.metric_logs)
