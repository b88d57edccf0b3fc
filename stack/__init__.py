"""The local stack: `make run`, `make demo` and `make bench` (tooling, not a service)."""
