"""One module per drill, each with `build(spec, body, rng) -> Motion`: the choreography
of the drill as keyframes, with the faults injected and the expected events."""
