"""Series of runs: trajectories of slices, mix shift against model change, surrogate against outcome, the gate."""
