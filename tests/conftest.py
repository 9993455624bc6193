"""Fixtures shared by every test area; each area's own fixtures live in tests/fixtures/."""

pytest_plugins: list[str] = [
    "tests.fixtures.site",
    "tests.fixtures.sources",
    "tests.fixtures.pki",
    "tests.fixtures.postgres",
    "tests.fixtures.web",
    "tests.fixtures.details",
    "tests.fixtures.access",
    "tests.fixtures.prometheus",
    "tests.fixtures.smtp",
    "tests.fixtures.webhook",
    "tests.fixtures.changing",
]
