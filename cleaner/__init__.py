"""ecr-cleaner: a scheduled image-retention cleaner for Amazon ECR."""

__version__ = "0.1.0"
