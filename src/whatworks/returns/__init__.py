"""Statutory returns: SSDA903 and CIN census readers, validation and pseudonymisation."""
