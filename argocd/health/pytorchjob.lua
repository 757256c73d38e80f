-- Argo CD health of a Kubeflow training-operator PyTorchJob (kubeflow.org/v1), the trial kind
-- Katib creates for multi-node trials. Healthy once Succeeded, Degraded once Failed, Suspended
-- while suspended, Progressing otherwise; the message gives the operator's latest condition and
-- the replica counts, for example "PyTorchJob kubeflow/t-1 is running. (Master: 1 active;
-- Worker: 1 active)".
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

-- Replica types in a fixed order, so the message does not change between refreshes.
local function replica_summary(replica_statuses)
  if replica_statuses == nil then
    return ""
  end
  local names = {}
  for name, _ in pairs(replica_statuses) do
    table.insert(names, name)
  end
  table.sort(names)
  local parts = {}
  for _, name in ipairs(names) do
    local counts = {}
    for _, field in ipairs({ "active", "succeeded", "failed" }) do
      local value = replica_statuses[name][field]
      if value ~= nil and value > 0 then
        table.insert(counts, tostring(value) .. " " .. field)
      end
    end
    if #counts > 0 then
      table.insert(parts, name .. ": " .. table.concat(counts, ", "))
    end
  end
  if #parts == 0 then
    return ""
  end
  return " (" .. table.concat(parts, "; ") .. ")"
end

local function describe(condition, fallback)
  if condition == nil then
    return fallback
  end
  return condition.message or condition.reason or fallback
end

local hs = {}
local status = obj.status

if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the training operator to create the replicas"
  return hs
end

local conditions = status.conditions
local replicas = replica_summary(status.replicaStatuses)
local succeeded = condition_true(conditions, "Succeeded")
local failed = condition_true(conditions, "Failed")
local suspended = condition_true(conditions, "Suspended")

if succeeded ~= nil then
  hs.status = "Healthy"
  hs.message = describe(succeeded, "Succeeded") .. replicas
elseif failed ~= nil then
  hs.status = "Degraded"
  hs.message = describe(failed, "Failed") .. replicas
elseif suspended ~= nil then
  hs.status = "Suspended"
  hs.message = describe(suspended, "Suspended") .. replicas
else
  local current = condition_true(conditions, "Restarting")
    or condition_true(conditions, "Running")
    or condition_true(conditions, "Created")
  hs.status = "Progressing"
  hs.message = describe(current, "Waiting for the training operator") .. replicas
end
return hs
