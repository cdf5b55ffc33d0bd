"""pytest's configuration of the tests. What the tests share lives in tests/helpers/
(imported as `helpers`, see its __init__)."""

from __future__ import annotations

# Only for tests/test_captions.py, which the captions work still has import it from here;
# every other test imports it from helpers.paths.
from helpers.paths import shared_fixture  # noqa: F401
