"""Shared foundations: the relational store, people and access, audit, charts and errors."""
