// A trial on Kubeflow Trainer v2: a trainer.kubeflow.org/v1alpha1 TrainJob on the cluster's
// ClusterTrainingRuntime (argocd/training-runtime.yaml ships one). The runtime's JobSet runs
// numNodes pods of its "node" replicated job, each with a container named "node"; the TrainJob
// sets that container's image, command, environment and resources, and a runtime patch adds
// what every trial pod gets: the experiment volume, shared memory and the restricted profile.
local common = import 'common.libsonnet';
local container = import 'trial-container.libsonnet';

// Who the runtime patch is recorded as (patches are keyed by their manager).
local patchManager = 'hpo.example.org/generator';

local defaults = {
  pod: error 'must provide pod',
  runtime: error 'must provide runtime',
  numNodes: error 'must provide numNodes',
  procsPerNode: error 'must provide procsPerNode',
  activeDeadlineSeconds: null,
};

function(params) {
  local p = defaults + params,
  local pod = p.pod,
  assert std.isString(p.runtime) : 'runtime must name a ClusterTrainingRuntime',
  assert p.numNodes >= 1 && p.procsPerNode >= 1 : 'numNodes and procsPerNode must be at least 1',

  apiVersion: 'trainer.kubeflow.org/v1alpha1',
  kind: 'TrainJob',
  spec: {
    runtimeRef: {
      apiGroup: 'trainer.kubeflow.org',
      kind: 'ClusterTrainingRuntime',
      name: p.runtime,
    },
    [if p.activeDeadlineSeconds != null then 'activeDeadlineSeconds']: p.activeDeadlineSeconds,
    trainer: {
      image: pod.image,
      command: pod.command,
      args: pod.args,
      env: container.env(pod),
      numNodes: p.numNodes,
      numProcPerNode: p.procsPerNode,
      resourcesPerNode: container.resources(pod),
    },
    runtimePatches: [{
      manager: patchManager,
      trainingRuntimeSpec: { template: { spec: { replicatedJobs: [{
        name: 'node',
        template: { spec: { template: {
          metadata: container.podMetadata(pod),
          spec: {
            securityContext: common.podSecurityContext,
            volumes: container.volumes(pod),
            containers: [{
              name: 'node',
              securityContext: common.containerSecurityContext,
              volumeMounts: container.volumeMounts(pod),
            }],
          },
        } } },
      }] } } },
    }],
  },
}
