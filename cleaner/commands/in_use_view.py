"""`ecr-cleaner in-use`: read every in-use source of every target, as a run would, and
show what each sees and what each reference resolves to in the target's registry.

Nothing is planned or deleted. Exit 1 if any source (or a target's repository list)
could not be read: a run with this policy would leave that target untouched.
"""

from __future__ import annotations

import sys
from typing import TextIO

from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.config.model import Config, InUseSource, Target
from cleaner.core.model import Inventory
from cleaner.core.references import Usage
from cleaner.errors import error_text
from cleaner.exitcodes import ExitCode
from cleaner.inuse.listing import Resolver, SourceView, TargetView, failed, to_json, to_table
from cleaner.inuse.reader import InUseReader, InUseUnavailable, TargetClients, label


def in_use_command(
    config: Config, clients: TargetClients, *, output: str = "table", out: TextIO | None = None
) -> int:
    targets = [view_target(config, clients, target) for target in config.targets]
    (out or sys.stdout).write(to_json(targets) if output == "json" else to_table(targets))
    return ExitCode.FAILURES if failed(targets) else ExitCode.OK


def every_source(config: Config) -> list[InUseSource]:
    """Each distinct source of the file, in the order the policies name them."""
    return list(dict.fromkeys(s for p in config.policies for s in p.protect.in_use))


def view_target(config: Config, clients: TargetClients, target: Target) -> TargetView:
    view = TargetView(target.region, target.registry_id)
    registry = Registry(clients.for_target("ecr", target), target.region, target.registry_id)
    try:
        repositories = registry.repositories()
    except Exception as exc:  # this target's failure is reported, the others still run
        view.error = f"cannot list repositories: {error_text(exc)}"
        return view
    registry_id = target.registry_id or next((r.registry_id for r in repositories), "")
    view.registry_id = registry_id or None
    reader = InUseReader(clients)
    read: dict[InUseSource, list[Usage] | str] = {}
    for source in every_source(config):
        try:
            read[source] = reader.read(target, [source])[source]
        except InUseUnavailable as exc:
            read[source] = str(exc)
    names = [r.name for r in repositories]
    usages = [u for found in read.values() if not isinstance(found, str) for u in found]
    wanted = Resolver(registry_id, target.region, names, {}).wanted(u.reference for u in usages)
    inventories: dict[str, Inventory] = {}
    cache = ManifestCache()
    for ref in repositories:
        if ref.name in wanted:
            try:
                inventories[ref.name] = registry.inventory(ref, cache)
            except Exception as exc:
                view.error = f"cannot list the images of {ref.name}: {error_text(exc)}"
                return view
    resolver = Resolver(registry_id, target.region, names, inventories)
    for source, found in read.items():
        if isinstance(found, str):
            view.sources.append(SourceView(label(source), source.kind, found))
        else:
            entries = [entry for usage in found for entry in resolver.entries(usage)]
            view.sources.append(SourceView(label(source), source.kind, None, entries))
    return view
