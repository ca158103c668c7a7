"""The schema's Strawberry types.

These modules, `queries.py` and `mutations.py` don't import `from __future__ import
annotations`: with it every field's annotation is a string, which Strawberry evaluates at
import, compiling each one (about 90 M instructions of the API's cold start, ~5%). Without
it Python builds them from bytecode; a type's methods returning their own class quote it.
tests/unit/test_api_fields.py keeps it so."""
