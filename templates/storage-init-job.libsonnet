// The download Job: fetches the model (init container) then the dataset, once per experiment.
// Each container gets only its own credentials, so the two sources can use different Secrets.
local common = import 'common.libsonnet';

local defaults = {
  name: error 'must provide name',
  namespace: error 'must provide namespace',
  syncWave: error 'must provide syncWave',
  image: error 'must provide image',
  claimName: error 'must provide claimName',
  mountPath: error 'must provide mountPath',
  modelContainer: error 'must provide modelContainer',
  datasetContainer: error 'must provide datasetContainer',
  backoffLimit: 3,
};

local container(p, c) = {
  name: c.name,
  image: p.image,
  imagePullPolicy: 'IfNotPresent',
  command: c.command,
  args: c.args,
  env: c.env + [
    // Hub downloads go to the volume, never the container's root filesystem.
    { name: 'HF_HOME', value: p.mountPath + '/.hf-home' },
  ],
  resources: {
    requests: { cpu: '1', memory: '2Gi' },
    limits: { cpu: '2', memory: '4Gi' },
  },
  securityContext: common.containerSecurityContext,
  volumeMounts: [common.workspaceMount(p.mountPath)],
};

function(params) {
  local p = defaults + params,
  local jobName = p.name + '-storage-init',

  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {
    name: jobName,
    namespace: p.namespace,
    labels: common.labels(p.name, 'storage-init'),
    annotations: common.syncWave(p.syncWave) + common.recreateOnChange,
  },
  spec: {
    backoffLimit: p.backoffLimit,
    template: {
      metadata: { labels: common.labels(p.name, 'storage-init') },
      spec: {
        restartPolicy: 'Never',
        securityContext: common.podSecurityContext,
        initContainers: [container(p, p.modelContainer)],
        containers: [container(p, p.datasetContainer)],
        volumes: [common.workspaceVolume(p.claimName)],
      },
    },
  },
}
