"""Slicing: the attribute layer, the slice table with intervals and q-values, per-slice extras,
SliceLine discovery, and the comparison of two runs (with the regression gate)."""
