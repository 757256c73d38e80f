// The experiment's volume: the download cache and every trial's output.
local common = import 'common.libsonnet';

local defaults = {
  name: error 'must provide name',
  namespace: error 'must provide namespace',
  syncWave: error 'must provide syncWave',
  size: error 'must provide size',
  accessModes: error 'must provide accessModes',
  storageClass: null,
};

function(params) {
  local p = defaults + params,
  assert std.isArray(p.accessModes) && std.length(p.accessModes) > 0 : 'accessModes must be a non-empty array',

  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: {
    name: p.name,
    namespace: p.namespace,
    labels: common.labels(p.name, 'workspace'),
    annotations: common.syncWave(p.syncWave),
  },
  spec: {
    accessModes: p.accessModes,
    resources: { requests: { storage: p.size } },
    [if p.storageClass != null then 'storageClassName']: p.storageClass,
  },
}
