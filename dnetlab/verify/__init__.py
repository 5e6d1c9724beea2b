"""`dnetlab verify`: probes run inside the lab, checked, and reported.

Each probe type is a pure command builder (`commands`) plus a pure result checker
(`checks`, on parsers in `parse`); `runner` batches the commands of one source container
into one exec, and `report` renders the results.
"""
