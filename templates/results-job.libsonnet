// The results Job of one experiment, with the identity it runs as.
//
// It waits for the Katib Experiment to finish, then writes experiments/<name>/results.yaml,
// report.md and chart.png to the branch hpo-results/<name> and opens or updates its pull
// request (`python -m results <name>`, the same command as `hpo results <name>`). The validated
// definition reaches it in a ConfigMap: it never reads experiment.yaml again. It shares the Experiment's sync wave rather than following
// it: Argo CD never moves past a wave holding a Degraded (failed) Experiment, and a failed
// experiment must still report. A wave, not a PostSync hook: experiments run for hours.
//
// Its Role may only read experiments and trials in its own namespace, and patch its own
// Experiment: its trial counts when the definition sets a budget (the Job lowers them once it is
// spent), and, once it has finished, its Argo CD sync options (the Job lifts Prune=false,
// Delete=false, so that archiving the experiment can delete it). The forge token reaches the
// container only through a secretKeyRef.
//
// With `volume`, the experiment's volume is mounted read-only, so the results can record what the
// download fetched (its completion markers under HPO_CACHE_DIR) beside what the definition states.
// With `checkpoints` too (hpo-asha), the experiment's own checkpoints folder on that volume is
// mounted read-write at HPO_CHECKPOINT_DIR, as a subPath: the Job empties it once the Experiment
// has finished, and sees no other experiment's files on a shared claim.

local common = import 'common.libsonnet';

local defaults = {
  name: error 'must provide name',
  namespace: error 'must provide namespace',
  image: error 'must provide image',
  syncWave: error 'must provide syncWave',
  git: {
    url: error 'must provide git.url',
    baseBranch: 'main',
    forge: error 'must provide git.forge',
    forgeApiUrl: null,  // null: the public GitHub or GitLab API
    repo: error 'must provide git.repo',
  },
  tokenSecret: {
    secret: error 'must provide tokenSecret.secret',
    key: error 'must provide tokenSecret.key',
  },
  timeout: '7d',  // how long the Job waits for the Experiment (hpo results --timeout)
  storageInitImage: null,  // recorded in the results' provenance when given
  definition: error 'must provide definition',  // the definition record's JSON (generator)
  // For an SSH git URL: { key: {secret, key}, knownHosts: {secret, key} }, mounted read-only.
  sshSecrets: null,
  // The experiment's volume, as the download Job mounts it: { claimName, mountPath, cacheDir }.
  volume: null,
  // The experiment's checkpoints on that volume: { subPath, mountPath }; needs `volume`.
  checkpoints: null,
  labels: {},
  backoffLimit: 2,
  resources: {
    requests: { cpu: '100m', memory: '256Mi' },
    limits: { cpu: '1', memory: '1Gi' },
  },
};

function(params)
  // Nested objects are merged key by key, so a caller may give only some git keys.
  local p = defaults + params + {
    git: defaults.git + std.get(params, 'git', {}),
    tokenSecret: defaults.tokenSecret + std.get(params, 'tokenSecret', {}),
  };
  local fullName = p.name + '-results';
  local sshDir = '/etc/hpo-git-ssh';
  local definitionDir = '/etc/hpo-definition';
  local definitionFile = 'definition.json';
  local labels = common.labels(p.name, 'results') + p.labels;
  // All five share the wave: the identity exists before the pod that uses it starts.
  local metadata = {
    name: fullName,
    namespace: p.namespace,
    labels: labels,
    annotations: common.syncWave(std.toString(p.syncWave)),
  };
  local optionalEnv(name, value) = if value == null then [] else [{ name: name, value: value }];

  assert std.isString(p.name) && std.length(p.name) <= 55 : 'name must be a string of at most 55 characters';
  assert std.member(['github', 'gitlab'], p.git.forge) : 'git.forge must be github or gitlab';
  assert std.isNumber(p.syncWave) || std.isString(p.syncWave) : 'syncWave must be a number or a string';
  assert std.isString(p.definition) : 'definition must be the record as JSON text';
  assert p.volume == null || std.isString(p.volume.claimName) : 'volume.claimName must be a string';
  assert p.checkpoints == null || p.volume != null : 'checkpoints needs volume';

  {
    definition: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata,
      data: { [definitionFile]: p.definition },
    },

    serviceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: metadata,
    },

    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: metadata,
      rules: [
        {
          apiGroups: ['kubeflow.org'],
          resources: ['experiments', 'trials'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['kubeflow.org'],
          resources: ['experiments'],
          resourceNames: [p.name],
          verbs: ['patch'],
        },
      ],
    },

    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: fullName },
      subjects: [{ kind: 'ServiceAccount', name: fullName, namespace: p.namespace }],
    },

    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: metadata { annotations+: common.recreateOnChange },
      spec: {
        backoffLimit: p.backoffLimit,
        template: {
          metadata: { labels: labels },
          spec: {
            serviceAccountName: fullName,
            restartPolicy: 'Never',
            securityContext: common.podSecurityContext,
            containers: [{
              name: 'results',
              image: p.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['python', '-m', 'results', p.name],
              env: [
                { name: 'HPO_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                { name: 'HPO_GIT_URL', value: p.git.url },
                { name: 'HPO_BASE_BRANCH', value: p.git.baseBranch },
                { name: 'HPO_FORGE', value: p.git.forge },
                { name: 'HPO_REPO', value: p.git.repo },
                { name: 'HPO_RESULTS_TIMEOUT', value: p.timeout },
                { name: 'HPO_DEFINITION', value: definitionDir + '/' + definitionFile },
                {
                  name: 'HPO_FORGE_TOKEN',
                  valueFrom: { secretKeyRef: { name: p.tokenSecret.secret, key: p.tokenSecret.key } },
                },
                // The root filesystem is read-only: git, matplotlib and the clone use /tmp.
                { name: 'HOME', value: '/tmp' },
                { name: 'MPLCONFIGDIR', value: '/tmp/matplotlib' },
              ] + optionalEnv('HPO_FORGE_API_URL', p.git.forgeApiUrl)
              + optionalEnv('HPO_STORAGE_INIT_IMAGE', p.storageInitImage)
              + (if p.volume == null then [] else [{ name: 'HPO_CACHE_DIR', value: p.volume.cacheDir }])
              + (if p.checkpoints == null then [] else [
                   { name: 'HPO_CHECKPOINT_DIR', value: p.checkpoints.mountPath },
                 ])
              + (if p.sshSecrets == null then [] else [
                   { name: 'HPO_GIT_SSH_KEY', value: sshDir + '/id_key' },
                   { name: 'HPO_GIT_SSH_KNOWN_HOSTS', value: sshDir + '/known_hosts' },
                 ]),
              securityContext: common.containerSecurityContext {
                runAsUser: 1000,
                readOnlyRootFilesystem: true,
              },
              resources: p.resources,
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'definition', mountPath: definitionDir, readOnly: true },
              ] + (
                if p.sshSecrets == null then []
                else [{ name: 'git-ssh', mountPath: sshDir, readOnly: true }]
              ) + (
                if p.volume == null then []
                else [common.workspaceMount(p.volume.mountPath) { readOnly: true }]
              ) + (
                if p.checkpoints == null then []
                else [common.workspaceMount(p.checkpoints.mountPath) { subPath: p.checkpoints.subPath }]
              ),
            }],
            volumes: [
              { name: 'tmp', emptyDir: { sizeLimit: '2Gi' } },
              { name: 'definition', configMap: { name: fullName } },
            ] + (
              if p.volume == null then []
              // Read-only for the whole pod, unless one mount of it must write (checkpoints).
              else [common.workspaceVolume(p.volume.claimName) {
                persistentVolumeClaim+: if p.checkpoints == null then { readOnly: true } else {},
              }]
            ) + (
              if p.sshSecrets == null then [] else [{
                name: 'git-ssh',
                projected: {
                  // Group-readable for fsGroup 1000; ssh checks modes only on keys the user owns.
                  defaultMode: 288,  // 0440
                  sources: [
                    { secret: { name: p.sshSecrets.key.secret, items: [{ key: p.sshSecrets.key.key, path: 'id_key' }] } },
                    { secret: { name: p.sshSecrets.knownHosts.secret, items: [{ key: p.sshSecrets.knownHosts.key, path: 'known_hosts' }] } },
                  ],
                },
              }]
            ),
          },
        },
      },
    },
  }
