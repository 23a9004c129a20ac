"""Events: one row per gold OUTCOME with its actors, place, outcome type and casualty counts (stdlib only)."""
