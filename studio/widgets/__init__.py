"""Reusable studio widgets."""
