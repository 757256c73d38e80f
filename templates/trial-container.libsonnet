// What every trial's training container gets, whichever object runs it (Job, PyTorchJob,
// TrainJob): the variables that keep it offline, its resources, the experiment volume and a
// shared-memory volume, and the pod metadata Katib and a service mesh read.
local common = import 'common.libsonnet';

{
  env(p):: p.env + [
    // Everything was fetched by the download Job: a trial never reaches the Hub.
    { name: 'HF_HUB_OFFLINE', value: '1' },
    { name: 'HF_DATASETS_OFFLINE', value: '1' },
    { name: 'HF_HOME', value: '/tmp/hf-home' },
    { name: 'PYTHONUNBUFFERED', value: '1' },
  ],

  // Requests equal limits: a trial gets exactly what the definition asked for.
  resources(p)::
    local amounts = { cpu: p.resources.cpu, memory: p.resources.memory }
                    + (if p.resources.gpu > 0 then { 'nvidia.com/gpu': p.resources.gpu } else {});
    { requests: amounts, limits: amounts },

  volumeMounts(p):: [
    common.workspaceMount(p.mountPath),
    { name: 'dshm', mountPath: '/dev/shm' },
  ],

  volumes(p):: [
    common.workspaceVolume(p.claimName),
    // DataLoader workers pass batches through shared memory; the default 64Mi is too small.
    // Its pages count against the container's memory limit, which bounds it.
    { name: 'dshm', emptyDir: { medium: 'Memory' } },
  ],

  podMetadata(p):: {
    labels: p.labels,
    // Katib's metrics collector is a sidecar; a service-mesh sidecar would keep the pod alive.
    annotations: { 'sidecar.istio.io/inject': 'false' },
  },
}
