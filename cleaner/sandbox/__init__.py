"""The embedded ECR sandbox: moto's server with a layer that makes ECR behave like ECR."""

from cleaner.sandbox.faults import Faults
from cleaner.sandbox.seed import IndexInfo, RepoSeeder, Seeder
from cleaner.sandbox.server import Sandbox
from cleaner.sandbox.store import Store

__all__ = ["Faults", "IndexInfo", "RepoSeeder", "Sandbox", "Seeder", "Store"]
