"""The rush load test (``manage.py bench_rush``): preparation, the households' locustfile and
the checks run after the cycle closes and plans."""
