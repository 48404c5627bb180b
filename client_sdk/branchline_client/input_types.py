"""The inputs the operations take, generated from the schema (generated/input_types.py)."""

from .generated.input_types import *  # noqa: F403
