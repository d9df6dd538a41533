"""`lambda`: the images of container-image Lambda functions, every version."""

from __future__ import annotations

from typing import Any

from cleaner.core.references import Usage
from cleaner.inuse.kinds import SourceKind
from cleaner.inuse.reading import paginate, usages


def read_lambda(client: Any) -> list[Usage]:
    """Every version ($LATEST and published) of every container-image function; the
    aliases that route to a version are named with it."""
    found: list[tuple[str, str]] = []
    for function in paginate(client, "list_functions", "Functions"):
        if function.get("PackageType") != "Image":
            continue
        name = function["FunctionName"]
        aliases: dict[str, list[str]] = {}
        for alias in paginate(client, "list_aliases", "Aliases", FunctionName=name):
            routed = [alias.get("FunctionVersion")]
            routed += list((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))
            for version in routed:
                aliases.setdefault(str(version), []).append(alias["Name"])
        versions = paginate(client, "list_versions_by_function", "Versions", FunctionName=name)
        for version in versions:
            if version.get("PackageType") != "Image":
                continue
            number = version["Version"]
            code = client.get_function(FunctionName=name, Qualifier=number)["Code"]
            named = sorted(aliases.get(number, []))
            workload = f"lambda {name}:{number}" + (f" (alias {', '.join(named)})" if named else "")
            # ImageUri is what was deployed (maybe a tag, which may have moved since);
            # ResolvedImageUri the digest the function really runs: both stay.
            for key in ("ImageUri", "ResolvedImageUri"):
                if code.get(key):
                    found.append((code[key], workload))
    return usages(found, "lambda")


KIND = SourceKind(
    name="lambda",
    description="Lambda: images of container-image functions.",
    read=lambda request: read_lambda(request.clients.for_target("lambda", request.target)),
    position=20,
)
