"""Outcomes: published statistics, the indicator catalogue and each place's series."""
