"""NCMEC CyberTipline reporting: typed report models, the XML builders, the API client and the
filing flow. See ``docs/reporting.md``."""
