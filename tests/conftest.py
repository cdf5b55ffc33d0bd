"""pytest's configuration of the tests. What the tests share lives in tests/helpers/
(imported as `helpers`, see its __init__)."""

from __future__ import annotations
