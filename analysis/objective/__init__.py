"""The training objective and failure modes: the taxonomy (data), the objective spec, the predicate
language, per-example mode indicators, researchers' annotations, and the modes x components link."""
