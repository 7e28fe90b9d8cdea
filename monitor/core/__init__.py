"""The ground floor: records, errors, settings and their parsing, the query syntax.

Nothing here imports anything above it (the store, collectors, classifiers, alerts or the
application)."""
