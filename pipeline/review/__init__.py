"""Human label review (`msg review`): a self-contained review page for a sample of a build's
MSG-MCQ items, the import of the reviewers' verdicts into the audit, and the exclusion list
a later build drops."""
