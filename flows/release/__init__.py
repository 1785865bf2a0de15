"""The files of a release: Parquet, CSV and Stata, validation, the dossier, publishing in one
step, and verifying what was published."""
