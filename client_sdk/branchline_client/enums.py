"""The API's enums, generated from the schema (generated/enums.py)."""

from .generated.enums import *  # noqa: F403
