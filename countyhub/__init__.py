"""countyhub: a county's shared data platform (sources -> lakehouse -> contracts -> catalog)."""

__version__ = "0.1.0"
