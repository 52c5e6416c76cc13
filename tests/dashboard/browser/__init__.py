"""The dashboard in Chromium. A package, so that its conftest does not shadow
tests/dashboard/conftest.py (which test modules there import as `conftest`)."""
