"""Multi-objective (Pareto) search tests."""
