"""The library API the CLI is a thin layer over: sessions of engines, up, down,
status, verify, the preflight that touches engines, apply, records, progress."""
