"""dnetlab: declarative Docker network labs."""

__version__ = "0.1.0"
