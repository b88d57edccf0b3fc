"""Helpers for the project's tests: tokens, running apps, reading topics."""
