"""Drift between Branchline and Shopify: the check, what explains a difference, repairs, and the signals Shopify
sends.
"""

# The face: what other contexts and packages may use (docs/architecture.md, rule 1).
from operations.drift.check import check_drift, check_loop, require_manager, start_check
from operations.drift.check import launch as launch_drift_check
from operations.drift.explain import IN_FLIGHT_KINDS
from operations.drift.repair import repair_drift

__all__ = [
    "IN_FLIGHT_KINDS",
    "check_drift",
    "check_loop",
    "launch_drift_check",
    "repair_drift",
    "require_manager",
    "start_check",
]
