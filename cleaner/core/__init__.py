"""Pure planning: inventory + policy + now -> a plan with a reason for every decision."""
