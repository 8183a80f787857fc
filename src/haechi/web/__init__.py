"""The investigator's web application: FastAPI, server-rendered Jinja2 pages with htmx, and
the REST API under ``/api``. Everything here is a thin shell over ``haechi.services`` and
``haechi.auth``; nothing imports this package, but the case report (``report.labels``) reads
its word catalogues through ``web.i18n.catalogue`` (JSON only, no FastAPI), so a status or
item kind has one Korean name on the page and in the report."""
