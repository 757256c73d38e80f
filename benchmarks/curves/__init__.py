"""The learning-curve table: every configuration of a grid trained once, evaluated 9 times.

A search that stops configurations early (hpo-asha) is compared with one that trains every trial
by replaying recorded curves instead of training again: the replay reads a configuration's
objective at the step where a search would look, and the seconds it would have spent to get
there. `python -m benchmarks.curves` records those curves (docs/local-runner.md#learning-curves):

- `tasks`: the two tasks, the grid, and their inputs;
- `timeline`: what a run cost, from when each line of the trainer's output arrived;
- `table`: the CSV's rows, read, resumed and written in a fixed order and format;
- `__main__`: the recording, each configuration run as the trial the generator renders.
"""
