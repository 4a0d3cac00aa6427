"""The decision layer: what each recovery action costs and brings back, and who gets which."""
