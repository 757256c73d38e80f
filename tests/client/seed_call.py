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
# defaults (num_train_epochs=3, lora_alpha=8 and bias="none" are defaults), and what the trainer
# will choose where the training arguments are silent.
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

# Training arguments the trainer chooses because training_parameters does not set them
# (set one there to pin it; trainer_parameters.exact_training_arguments: true turns them
# all off and trains with TrainingArguments' own defaults):
#   bf16: true on GPUs that compute bfloat16 natively (compute capability 8.0+), else false
#   torch_compile: true on GPUs with a C compiler for trials of 1500+ optimizer steps
#   dataloader_drop_last: as torch_compile (a last, smaller batch is one more shape)
#   dataloader_num_workers: 0 on CPUs; on GPUs the CPUs per process minus one, at most 4
#   dataloader_persistent_workers: true when dataloader_num_workers is above 0
#   dataloader_pin_memory: true on GPUs
#   use_cpu: true for trials of several processes without GPUs
#   train_sampling_strategy: group_by_length for text tasks, else random
#   optim: adamw_torch_fused on GPUs, else adamw_torch
#   report_to: none (metrics go to Katib through the log)
#   disable_tqdm: true
#   average_tokens_across_devices: false (a classification loss would grow with the GPUs)
#   ddp_find_unused_parameters: false (every LoRA weight takes part in each step)
#   logging_nan_inf_filter: false (a NaN loss is reported, not averaged away)
#   logging_steps: the trial's optimizer steps / 20, at least 1
#   eval_strategy: steps when there is an eval split
#   eval_steps: the trial's optimizer steps / 5, at least 1
"""
