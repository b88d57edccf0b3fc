"""Local development and test infrastructure: a real Kafka broker and a throwaway PostgreSQL.

Nothing here is used in production. It exists so that tests and ``make run`` exercise the
real broker and the real database on a machine without Docker.
"""
