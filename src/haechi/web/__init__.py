"""The investigator's web application: FastAPI, server-rendered Jinja2 pages with htmx, and
the REST API under ``/api``. Everything here is a thin shell over ``haechi.services`` and
``haechi.auth``; nothing imports this package."""
