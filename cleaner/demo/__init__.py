"""`ecr-cleaner demo`: the whole flow against the embedded sandbox."""
