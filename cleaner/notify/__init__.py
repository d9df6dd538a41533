"""Telling people a run ended: webhooks (Slack or JSON), SNS, and GitHub's job summary."""
