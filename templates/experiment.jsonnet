// Every object of one experiment, in sync-wave order. The generator passes the parameters
// (generator/manifest_params.py) as the top-level argument `params`.
local common = import 'common.libsonnet';
local experiment = import 'experiment.libsonnet';
local externalSecret = import 'external-secret.libsonnet';
local pvc = import 'pvc.libsonnet';
local resultsJob = import 'results-job.libsonnet';
local storageInitJob = import 'storage-init-job.libsonnet';

function(params)
  local p = params;
  // An existing claim shares its download cache with other experiments; else one of our own.
  local ownClaim = p.storage.existingClaim == null;
  local claimName = if ownClaim then p.name else p.storage.existingClaim;
  local pod = {
    image: p.images.trainer,
    command: p.trial.command,
    args: p.trial.args,
    env: p.trial.env,
    resources: p.trial.resources,
    claimName: claimName,
    mountPath: p.storage.mountPath,
    labels: common.labels(p.name, 'trial'),
  };
  local results = if p.results == null then {} else resultsJob(p.results);
  // A cluster with a secret store: the Secrets the objects below reference, created first.
  local credentials = [
    externalSecret(es { experiment: p.name, namespace: p.namespace, syncWave: p.syncWaves.credentials })
    for es in p.externalSecrets
  ];
  local volume = if !ownClaim then [] else [
    pvc({
      name: claimName,
      namespace: p.namespace,
      syncWave: p.syncWaves.volume,
      size: p.storage.size,
      accessModes: p.storage.accessModes,
      storageClass: p.storage.storageClass,
    }),
  ];
  credentials + volume + [
    storageInitJob({
      name: p.name,
      namespace: p.namespace,
      syncWave: p.syncWaves.download,
      image: p.images.storageInit,
      claimName: claimName,
      mountPath: p.storage.mountPath,
      modelContainer: p.download.containers[0],
      datasetContainer: p.download.containers[1],
    }),
    experiment({
      name: p.name,
      namespace: p.namespace,
      syncWave: p.syncWaves.experiment,
      objective: p.objective,
      algorithm: p.algorithm,
      earlyStopping: p.earlyStopping,
      parameters: p.parameters,
      trialParameters: p.trialParameters,
      parallelTrialCount: p.parallelTrialCount,
      maxTrialCount: p.maxTrialCount,
      maxFailedTrialCount: p.maxFailedTrialCount,
      resumePolicy: p.resumePolicy,
      protect: p.protect,
      trial: p.trial,
      trialPod: pod,
    }),
  ] + [results[key] for key in std.objectFields(results)]
