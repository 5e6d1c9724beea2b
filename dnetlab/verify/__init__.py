"""`dnetlab verify`: probes run inside the lab, checked, and reported.

What a probe type runs and how its output is judged is its module in `dnetlab.probes`;
here, `targets` resolves each probe against the live lab, `runner` batches the commands
of one source container into one exec (`batch`) and judges the outputs round after round,
`auto` derives probes from the topology, and `export` writes the JSON and JUnit reports.
"""
