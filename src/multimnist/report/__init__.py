"""The top of the pipeline: the claims judged on a finished study's files (criteria.py, claims.py, results.py), the
HTML and Markdown report, the claims across regimes; and `reproduce`, which runs the study's steps and then writes
the report. It reads what the experiments wrote; the experiments import nothing from here."""
