"""PCF Workbench: product carbon footprint methodology as code (ISO 14067 / GB/T 24067).

Importing the package is cheap: Brightway is imported only by ``methodology.brightway.engine`` when used.
"""

__version__ = "0.1.0"
