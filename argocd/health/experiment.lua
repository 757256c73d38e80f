-- Argo CD health of a Katib Experiment (kubeflow.org/v1beta1).
-- Healthy once Katib marks it Succeeded, Degraded once it is Failed, Progressing otherwise.
-- The message counts trials and names the best objective value so far, for example
-- "7/10 trials succeeded, 2 running, best train_loss=0.4123".
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

local function count(value)
  return tostring(value or 0)
end

local function floor(x)
  return x - x % 1
end

-- x rounded to four significant digits, so 0.41234567 shows as 0.4123 and 1234.56 as 1235:
-- scale x into [1000, 10000) by powers of ten, round there, and undo the scaling.
local function four_digits(x)
  if x == 0 or x ~= x or x == 1 / 0 or x == -1 / 0 then
    return x
  end
  local sign = 1
  if x < 0 then
    sign, x = -1, -x
  end
  local up, down = 1, 1
  while x * up < 1000 do
    up = up * 10
  end
  while x / down >= 10000 do
    down = down * 10
  end
  return sign * floor(x * up / down + 0.5) / up * down
end

-- Katib reports metric values as strings; show numbers compactly and anything else as it is.
local function format_value(text)
  local number = tonumber(text)
  if number == nil then
    return tostring(text)
  end
  return tostring(four_digits(number))
end

-- The value Katib ranks trials by: the objective's metric strategy (rendered explicitly),
-- else min for a minimised and max for a maximised objective.
local function strategy_for(objective, metric_name)
  if objective.metricStrategies ~= nil then
    for _, strategy in ipairs(objective.metricStrategies) do
      if strategy.name == metric_name and strategy.value ~= nil then
        return strategy.value
      end
    end
  end
  if objective.type == "minimize" then
    return "min"
  elseif objective.type == "maximize" then
    return "max"
  end
  return "latest"
end

local function best_objective(spec, status)
  local objective = spec.objective
  local optimal = status.currentOptimalTrial
  if objective == nil or objective.objectiveMetricName == nil or optimal == nil then
    return nil
  end
  if optimal.observation == nil or optimal.observation.metrics == nil then
    return nil
  end
  local name = objective.objectiveMetricName
  for _, metric in ipairs(optimal.observation.metrics) do
    if metric.name == name then
      local value = metric[strategy_for(objective, name)] or metric.latest
      if value == nil or value == "" then
        return nil
      end
      return name .. "=" .. format_value(value)
    end
  end
  return nil
end

local function summary(spec, status)
  local text
  if spec.maxTrialCount ~= nil then
    text = count(status.trialsSucceeded) .. "/" .. count(spec.maxTrialCount) .. " trials succeeded"
  else
    text = count(status.trialsSucceeded) .. " trials succeeded"
  end
  local others = {
    { "trialsRunning", "running" },
    { "trialsPending", "pending" },
    { "trialsFailed", "failed" },
    { "trialsKilled", "killed" },
    { "trialsEarlyStopped", "early stopped" },
    { "trialMetricsUnavailable", "without metrics" },
  }
  for _, other in ipairs(others) do
    local value = status[other[1]]
    if value ~= nil and value > 0 then
      text = text .. ", " .. count(value) .. " " .. other[2]
    end
  end
  local best = best_objective(spec, status)
  if best ~= nil then
    text = text .. ", best " .. best
  end
  return text
end

local hs = {}
local spec = obj.spec or {}
local status = obj.status

if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Katib controller to accept the experiment"
  return hs
end

local text = summary(spec, status)
local failed = condition_true(status.conditions, "Failed")
if condition_true(status.conditions, "Succeeded") ~= nil then
  hs.status = "Healthy"
  hs.message = text
elseif failed ~= nil then
  hs.status = "Degraded"
  hs.message = text .. ": " .. (failed.message or failed.reason or "Experiment failed")
elseif condition_true(status.conditions, "Restarting") ~= nil then
  hs.status = "Progressing"
  hs.message = text .. " (restarting)"
else
  hs.status = "Progressing"
  hs.message = text
end
return hs
