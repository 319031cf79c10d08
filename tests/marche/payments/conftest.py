from tests.marche.orders.conftest import Market, market  # noqa: F401 - shared fixture
