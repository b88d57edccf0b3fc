"""Budgets service: neighbourhood budgets and the initiatives fund, kept as an append-only ledger."""
