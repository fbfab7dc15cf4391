"""Spreading innovation: ask a question, find places like mine, track adoption, communities of
practice, Learning Together practice reviews, centres of excellence."""
