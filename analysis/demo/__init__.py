"""The bundled demo: a seeded generator of evaluation runs with planted failures, and seeding a store."""
