// The pod every trial runs: the trainer container with the experiment volume and shared memory.
local common = import 'common.libsonnet';

local defaults = {
  containerName: error 'must provide containerName',
  image: error 'must provide image',
  command: error 'must provide command',
  args: error 'must provide args',
  env: [],
  resources: error 'must provide resources',
  claimName: error 'must provide claimName',
  mountPath: error 'must provide mountPath',
  labels: {},
};

function(params) {
  local p = defaults + params,
  local gpus = p.resources.gpu,
  local amounts = { cpu: p.resources.cpu, memory: p.resources.memory }
                  + (if gpus > 0 then { 'nvidia.com/gpu': gpus } else {}),
  assert std.isArray(p.command) && std.length(p.command) > 0 : 'command must be explicit',

  metadata: {
    labels: p.labels,
    // Katib's metrics collector is a sidecar; a service-mesh sidecar would keep the pod alive.
    annotations: { 'sidecar.istio.io/inject': 'false' },
  },
  spec: {
    restartPolicy: 'Never',
    securityContext: common.podSecurityContext,
    containers: [{
      name: p.containerName,
      image: p.image,
      imagePullPolicy: 'IfNotPresent',
      command: p.command,
      args: p.args,
      env: p.env + [
        // Everything was fetched by the download Job: a trial never reaches the Hub.
        { name: 'HF_HUB_OFFLINE', value: '1' },
        { name: 'HF_DATASETS_OFFLINE', value: '1' },
        { name: 'HF_HOME', value: '/tmp/hf-home' },
        { name: 'PYTHONUNBUFFERED', value: '1' },
      ],
      resources: { requests: amounts, limits: amounts },
      securityContext: common.containerSecurityContext,
      volumeMounts: [
        common.workspaceMount(p.mountPath),
        { name: 'dshm', mountPath: '/dev/shm' },
      ],
    }],
    volumes: [
      common.workspaceVolume(p.claimName),
      // DataLoader workers pass batches through shared memory; the default 64Mi is too small.
      // Its pages count against the container's memory limit, which bounds it.
      { name: 'dshm', emptyDir: { medium: 'Memory' } },
    ],
  },
}
