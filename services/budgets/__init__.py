"""Budgets service: neighbourhood budgets and the initiatives fund, on an append-only ledger."""
