"""Change points: shifts of level or variance in every stored numeric series, found per run."""
