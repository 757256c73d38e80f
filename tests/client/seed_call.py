"""The seed example's tune() call and the definition a person would write for it."""

SEED_ARGUMENTS = dict(
    objective_metric_name="train_loss",
    objective_type="minimize",
    algorithm_name="random",
    max_trial_count=10,
    parallel_trial_count=2,
    resources_per_trial={"gpu": "2", "cpu": "4", "memory": "10G"},
)

# What a person writes for the seed's call: only values that differ from the libraries'
# defaults (num_train_epochs=3, lora_alpha=8 and bias="none" are defaults).
SEED_DEFINITION = """\
name: llama-3-2-fine-tune
cluster: gpu-cluster-1
namespace: kubeflow
model_provider_parameters:
  model_uri: hf://meta-llama/Llama-3.2-1B
  transformer_type: AutoModelForSequenceClassification
dataset_provider_parameters:
  repo_id: imdb
  split: train[:1000]
trainer_parameters:
  training_parameters:
    learning_rate: {search: double, min: 1.0e-5, max: 5.0e-5}
    save_strategy: "no"
  lora_config:
    r: {search: int, min: 8, max: 32}
    lora_dropout: 0.1
objective_metric_name: train_loss
objective_type: minimize
algorithm_name: random
max_trial_count: 10
parallel_trial_count: 2
resources_per_trial: {gpu: 2, cpu: 4, memory: 10G}
"""
