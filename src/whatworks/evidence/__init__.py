"""The evidence hub: interventions, projects, pre-registered evaluations, studies and their
results, synthesis, ratings, costs and recommendations."""
