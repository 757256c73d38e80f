// A multi-node trial: a kubeflow.org/v1 PyTorchJob, one master and numWorkers - 1 workers.
// The training operator requires the container to be named "pytorch".
local trialPod = import 'trial-pod.libsonnet';

local defaults = {
  pod: error 'must provide pod',
  numWorkers: error 'must provide numWorkers',
  procsPerWorker: error 'must provide procsPerWorker',
  activeDeadlineSeconds: null,
};

function(params) {
  local p = defaults + params,
  local replica(count) = {
    replicas: count,
    restartPolicy: 'Never',
    template: trialPod(p.pod { containerName: 'pytorch' }),
  },
  assert p.numWorkers >= 2 : 'a PyTorchJob trial needs at least two nodes',

  apiVersion: 'kubeflow.org/v1',
  kind: 'PyTorchJob',
  spec: {
    nprocPerNode: std.toString(p.procsPerWorker),
    runPolicy: {
      backoffLimit: 0,
      cleanPodPolicy: 'None',
      [if p.activeDeadlineSeconds != null then 'activeDeadlineSeconds']: p.activeDeadlineSeconds,
    },
    pytorchReplicaSpecs: {
      Master: replica(1),
      Worker: replica(p.numWorkers - 1),
    },
  },
}
