// A one-node trial: a batch/v1 Job whose single pod runs python or torchrun.
local trialPod = import 'trial-pod.libsonnet';

local defaults = {
  pod: error 'must provide pod',
  activeDeadlineSeconds: null,
};

function(params) {
  local p = defaults + params,

  apiVersion: 'batch/v1',
  kind: 'Job',
  spec: {
    // Katib counts a failed trial; retrying it here would hide the failure and double the cost.
    backoffLimit: 0,
    [if p.activeDeadlineSeconds != null then 'activeDeadlineSeconds']: p.activeDeadlineSeconds,
    template: trialPod(p.pod { containerName: 'trainer' }),
  },
}
