// One ExternalSecret (external-secrets.io/v1): the External Secrets Operator reads the listed
// keys from the cluster's secret store and writes them into a Secret of the same name, which the
// experiment's pods and Jobs reference (generator/rendering/external_secrets.py names both).
//
// creationPolicy Owner: the Secret belongs to the ExternalSecret and is deleted with it, so an
// experiment's Secrets go when its objects go. The template sets the Secret's own labels: without
// one ESO copies the ExternalSecret's labels, and Argo CD's label tracking would then take the
// Secret for an object of the Application that Git lacks, and prune it again and again.
local common = import 'common.libsonnet';

local defaults = {
  name: error 'must provide name',  // the ExternalSecret's and the Secret's
  experiment: error 'must provide experiment',
  namespace: error 'must provide namespace',
  syncWave: error 'must provide syncWave',
  store: {
    kind: error 'must provide store.kind',
    name: error 'must provide store.name',
  },
  // How often ESO reads the store again: a rotated value reaches the Secret within it.
  refreshInterval: '1h',
  data: error 'must provide data',  // [{ secretKey, remoteRef: { key, property? } }]
};

function(params) {
  local p = defaults + params,
  assert std.member(['SecretStore', 'ClusterSecretStore'], p.store.kind) : 'store.kind must be SecretStore or ClusterSecretStore',
  assert std.isArray(p.data) && std.length(p.data) > 0 : 'data must list at least one key',

  apiVersion: 'external-secrets.io/v1',
  kind: 'ExternalSecret',
  metadata: {
    name: p.name,
    namespace: p.namespace,
    labels: common.labels(p.experiment, 'credentials'),
    annotations: common.syncWave(p.syncWave),
  },
  spec: {
    secretStoreRef: { kind: p.store.kind, name: p.store.name },
    refreshInterval: p.refreshInterval,
    target: {
      name: p.name,
      creationPolicy: 'Owner',
      deletionPolicy: 'Retain',  // a key gone from the store keeps the last value, and says so
      template: {
        type: 'Opaque',
        metadata: {
          labels: {
            'app.kubernetes.io/name': 'llm-hpo',
            'app.kubernetes.io/component': 'credentials',
            'app.kubernetes.io/part-of': p.experiment,
          },
        },
      },
    },
    data: p.data,
  },
}
