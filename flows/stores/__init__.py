"""What rex keeps between runs: the audit log, the keys, the staff roster, the source store,
the recipients' requests and the consultations."""
