-- Argo CD health of a Kubeflow Trainer v2 TrainJob (trainer.kubeflow.org/v1alpha1), the trial
-- kind Katib creates on clusters that run Trainer v2. Healthy once Complete, Degraded once
-- Failed, Suspended while suspended, Progressing otherwise; the message gives the controller's
-- latest condition and the child jobs' counts, for example "jobset completed successfully
-- (node: 1 succeeded)".
-- Argo CD runs this in gopher-lua (Lua 5.1) with only the base and table libraries: no string,
-- no math. So numbers are formatted with arithmetic and tostring alone.

local function condition_true(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == kind and condition.status == "True" then
      return condition
    end
  end
  return nil
end

-- Child jobs sorted by name, so the message does not change between refreshes whatever order
-- the controller lists them in.
local function jobs_summary(jobs_status)
  if jobs_status == nil then
    return ""
  end
  local jobs = {}
  for _, job in ipairs(jobs_status) do
    table.insert(jobs, { name = tostring(job.name or "?"), counts = job })
  end
  table.sort(jobs, function(a, b)
    return a.name < b.name
  end)
  local parts = {}
  for _, job in ipairs(jobs) do
    local counts = {}
    for _, field in ipairs({ "active", "ready", "succeeded", "failed", "suspended" }) do
      local value = job.counts[field]
      if value ~= nil and value > 0 then
        table.insert(counts, tostring(value) .. " " .. field)
      end
    end
    if #counts > 0 then
      table.insert(parts, job.name .. ": " .. table.concat(counts, ", "))
    end
  end
  if #parts == 0 then
    return ""
  end
  return " (" .. table.concat(parts, "; ") .. ")"
end

-- The condition's message, else its reason (metav1.Condition writes both, possibly empty).
local function describe(condition, fallback)
  if condition == nil then
    return fallback
  end
  if condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

local hs = {}
local status = obj.status or {}
local conditions = status.conditions
local jobs = jobs_summary(status.jobsStatus)
local complete = condition_true(conditions, "Complete")
local failed = condition_true(conditions, "Failed")
local suspended = condition_true(conditions, "Suspended")
local created = condition_true(conditions, "Created")

if complete ~= nil then
  hs.status = "Healthy"
  hs.message = describe(complete, "Complete") .. jobs
elseif failed ~= nil then
  hs.status = "Degraded"
  hs.message = describe(failed, "Failed") .. jobs
elseif suspended ~= nil then
  hs.status = "Suspended"
  hs.message = describe(suspended, "Suspended") .. jobs
elseif created == nil and (status.jobsStatus == nil or #status.jobsStatus == 0) then
  hs.status = "Progressing"
  hs.message = "Waiting for the Trainer controller to create the JobSet"
else
  -- Early Trainer v2 builds set a Created condition; it was dropped (kubeflow/trainer#2621),
  -- so releases only fill in jobsStatus while the jobs run.
  hs.status = "Progressing"
  hs.message = describe(created, "JobSet created") .. jobs
end
return hs
