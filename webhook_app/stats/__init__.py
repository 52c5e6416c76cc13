"""Visit statistics: what a page view becomes once the IP and user agent are forgotten.

The derivation (:mod:`webhook_app.stats.derive`) is pure: no Flask, no database, no HTTP.
"""
