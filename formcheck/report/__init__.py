"""Session reports: the JSON contract of SPEC.md, and richer CSV/HTML views of it."""
