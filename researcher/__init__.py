"""What a researcher's code imports to make outputs that rex can check (see `outputs`)."""
