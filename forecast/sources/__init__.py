"""One module per external source: ``get_*`` (thin network call) + ``read_*`` (pure parser).

Names and units are converted to the glossary (docs/glossary.md) here, once.
"""
