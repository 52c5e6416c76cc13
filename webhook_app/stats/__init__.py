"""Visit statistics: what a page view becomes once the IP and user agent are forgotten.

The derivation (:mod:`~webhook_app.stats.derive` and the modules it uses, among them
:mod:`~webhook_app.stats.redact`, which keeps addresses and phone numbers out) is pure: no
Flask, no database, no HTTP. Around it: :mod:`~webhook_app.stats.ingest` (a batch in),
:mod:`~webhook_app.stats.salts` (the daily salts), :mod:`~webhook_app.stats.rollup` (days
summed once over), :mod:`~webhook_app.stats.summary` (the numbers out),
:mod:`~webhook_app.stats.retention` (the purge's part), :mod:`~webhook_app.stats.subjects`
(rows that still name someone, for export and erasure), and the ``/v1/stats`` blueprint in
:mod:`~webhook_app.stats.api`.
"""
