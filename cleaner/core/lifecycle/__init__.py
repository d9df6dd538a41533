"""ECR lifecycle policies in the planning core: evaluation, planning, audit, export."""
