"""The environment a command runs in: where it reads and writes, its progress, Prefect's server."""
