"""Stage 2, pure: desired state from the scenario, observed state from the engines,
and the plan of operations (each with its cause) that takes one to the other.
Nothing here talks to an engine."""
