"""What runs on a schedule: the yearly extract, retention, the periodic review, and their
Prefect deployments."""
