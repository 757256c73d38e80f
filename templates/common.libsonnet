// Pieces every workload shares: labels, sync waves and the "restricted" Pod Security Standard.
{
  labels(name, component):: {
    'app.kubernetes.io/name': 'llm-hpo',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'hpo-generator',
  },

  syncWave(wave):: { 'argocd.argoproj.io/sync-wave': wave },

  // A Job's pod template cannot be changed in place, so a new image would make every sync fail.
  // Argo CD deletes and recreates such a Job instead; both Jobs are safe to run again.
  recreateOnChange:: { 'argocd.argoproj.io/sync-options': 'Force=true,Replace=true' },

  // Pod-level settings required by the restricted profile; images run as UID 1000.
  podSecurityContext:: {
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    fsGroup: 1000,
    seccompProfile: { type: 'RuntimeDefault' },
  },

  containerSecurityContext:: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  },

  volumeName:: 'workspace',

  workspaceVolume(claimName):: {
    name: $.volumeName,
    persistentVolumeClaim: { claimName: claimName },
  },

  workspaceMount(mountPath):: { name: $.volumeName, mountPath: mountPath },
}
