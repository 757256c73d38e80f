// The Katib Experiment, with every value Katib's mutating webhook would fill in written out, so
// the live object equals Git and Argo CD shows no drift.
local common = import 'common.libsonnet';
local trialJob = import 'trial-job.libsonnet';
local trialPyTorchJob = import 'trial-pytorchjob.libsonnet';
local trialTrainJob = import 'trial-trainjob.libsonnet';

local defaults = {
  name: error 'must provide name',
  namespace: error 'must provide namespace',
  syncWave: error 'must provide syncWave',
  objective: error 'must provide objective',
  algorithm: error 'must provide algorithm',
  earlyStopping: null,
  parameters: error 'must provide parameters',
  trialParameters: error 'must provide trialParameters',
  parallelTrialCount: error 'must provide parallelTrialCount',
  maxTrialCount: null,
  maxFailedTrialCount: null,
  resumePolicy: 'Never',
  // false once the experiment is being archived (generator/loading/lifecycle.py): Argo CD reads
  // Prune=false from the live object, so it must leave the live object before the Experiment
  // leaves rendered/.
  protect: true,
  trial: error 'must provide trial',
  trialPod: error 'must provide trialPod',
};

// Katib's conditions for each trial kind (what its webhook fills in when they are empty).
local trialKinds = {
  Job: {
    template: function(p) trialJob({ pod: p.trialPod, activeDeadlineSeconds: p.trial.activeDeadlineSeconds }),
    primaryContainerName: 'trainer',
    successCondition: 'status.conditions.#(type=="Complete")#|#(status=="True")#',
    failureCondition: 'status.conditions.#(type=="Failed")#|#(status=="True")#',
    primaryPodLabels: null,
  },
  PyTorchJob: {
    template: function(p) trialPyTorchJob({
      pod: p.trialPod,
      numWorkers: p.trial.numWorkers,
      procsPerWorker: p.trial.procsPerWorker,
      activeDeadlineSeconds: p.trial.activeDeadlineSeconds,
    }),
    primaryContainerName: 'pytorch',
    successCondition: 'status.conditions.#(type=="Succeeded")#|#(status=="True")#',
    failureCondition: 'status.conditions.#(type=="Failed")#|#(status=="True")#',
    primaryPodLabels: { 'training.kubeflow.org/job-role': 'master' },
  },
  // Trainer v2: metrics come from the first node's pod of the runtime's "node" job.
  TrainJob: {
    template: function(p) trialTrainJob({
      pod: p.trialPod,
      runtime: p.trial.trainingRuntime,
      numNodes: p.trial.numWorkers,
      procsPerNode: p.trial.procsPerWorker,
      activeDeadlineSeconds: p.trial.activeDeadlineSeconds,
    }),
    primaryContainerName: 'node',
    successCondition: 'status.conditions.#(type=="Complete")#|#(status=="True")#',
    failureCondition: 'status.conditions.#(type=="Failed")#|#(status=="True")#',
    primaryPodLabels: {
      'jobset.sigs.k8s.io/replicatedjob-name': 'node',
      'batch.kubernetes.io/job-completion-index': '0',
    },
  },
};

local nonEmpty(list) = list != null && std.length(list) > 0;

function(params) {
  local p = defaults + params,
  local kind = trialKinds[p.trial.kind],
  local objective = p.objective,
  assert std.member(['minimize', 'maximize'], objective.type) : 'objective.type must be minimize or maximize',
  assert std.length(p.parameters) > 0 : 'at least one parameter must be tuned',

  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: {
    name: p.name,
    namespace: p.namespace,
    labels: common.labels(p.name, 'experiment'),
    // Deleting an Experiment deletes its trials and their metrics: no sync may do it until
    // the experiment's record is in Git (its results merged, or an archive forced).
    annotations: common.syncWave(p.syncWave) + (
      if p.protect then { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } else {}
    ),
  },
  spec: {
    objective: {
      type: objective.type,
      objectiveMetricName: objective.metricName,
      [if objective.goal != null then 'goal']: objective.goal,
      [if nonEmpty(objective.additionalMetricNames) then 'additionalMetricNames']: objective.additionalMetricNames,
      // One per metric, written out so Katib's webhook has none to add.
      metricStrategies: [
        { name: metric, value: objective.metricStrategies[metric] }
        for metric in [objective.metricName] + objective.additionalMetricNames
      ],
    },
    algorithm: {
      algorithmName: p.algorithm.name,
      [if nonEmpty(p.algorithm.settings) then 'algorithmSettings']: p.algorithm.settings,
    },
    [if p.earlyStopping != null then 'earlyStopping']: {
      algorithmName: p.earlyStopping.name,
      [if nonEmpty(p.earlyStopping.settings) then 'algorithmSettings']: p.earlyStopping.settings,
    },
    parallelTrialCount: p.parallelTrialCount,
    [if p.maxTrialCount != null then 'maxTrialCount']: p.maxTrialCount,
    [if p.maxFailedTrialCount != null then 'maxFailedTrialCount']: p.maxFailedTrialCount,
    resumePolicy: p.resumePolicy,
    metricsCollectorSpec: { collector: { kind: 'StdOut' } },
    parameters: p.parameters,
    trialTemplate: {
      primaryContainerName: kind.primaryContainerName,
      // Katib stores retain with omitempty: a rendered false would read as drift forever.
      [if p.trial.retain then 'retain']: true,
      successCondition: kind.successCondition,
      failureCondition: kind.failureCondition,
      [if kind.primaryPodLabels != null then 'primaryPodLabels']: kind.primaryPodLabels,
      trialParameters: p.trialParameters,
      trialSpec: kind.template(p),
    },
  },
}
