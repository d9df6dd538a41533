"""The only code that talks to AWS (boto3/botocore): clients, ECR, pacing, retries."""
