"""Initiatives service: neighbourhood initiatives from submission to decision and accounting."""
