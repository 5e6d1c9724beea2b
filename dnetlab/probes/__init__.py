"""Probe types, one module each: its fields, how it is built, its command, parser and check.

`base` holds what every type is made of and what it is given; `registry` maps each
`type:` of the scenario file to its module. `load` builds and cross-checks probes through
the registry, `verify` resolves, runs and judges them through it, so this package imports
from neither.

(This file imports nothing: a type module importing `dnetlab.probes.base` runs it first,
and the registry imports every type module.)
"""
