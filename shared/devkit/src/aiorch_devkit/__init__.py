"""aiorch's developer kit: embedded servers and the test harness, outside the runtime.

Nothing a service runs in production imports this package (an import-linter contract
says so); the local cluster, the benchmarks and the tests do.
"""
