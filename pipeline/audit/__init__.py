"""`msg audit`: label-quality metrics, label checks and a self-contained HTML report with
pictures, over an output folder of `msg build` (see docs/audit.md). Entry point:
`pipeline.audit.run.run_audit`."""
