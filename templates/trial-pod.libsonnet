// The pod a Job or PyTorchJob trial runs: the trainer container with the experiment volume.
local common = import 'common.libsonnet';
local container = import 'trial-container.libsonnet';

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
  assert std.isArray(p.command) && std.length(p.command) > 0 : 'command must be explicit',

  metadata: container.podMetadata(p),
  spec: {
    restartPolicy: 'Never',
    securityContext: common.podSecurityContext,
    containers: [{
      name: p.containerName,
      image: p.image,
      imagePullPolicy: 'IfNotPresent',
      command: p.command,
      args: p.args,
      env: container.env(p),
      resources: container.resources(p),
      securityContext: common.containerSecurityContext,
      volumeMounts: container.volumeMounts(p),
    }],
    volumes: container.volumes(p),
  },
}
