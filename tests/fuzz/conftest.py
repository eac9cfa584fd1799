"""Hypothesis profiles for the fuzz tests.

CI runs the `ci` profile (few examples, whole hostile suite well under a
minute).  For a long local session:

    HYPOTHESIS_PROFILE=long python -m pytest tests/fuzz -x

Any input that breaks something is printed by Hypothesis; keep it as a file
in tests/fixtures/hostile/ so the plain hostile tests replay it forever.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=60, deadline=2000, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=5000, deadline=10000,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
