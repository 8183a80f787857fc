"""Background jobs: long work (evidence packages, reports, re-upload scans, analysis of new
files, re-matching) queued from the web and run in a worker process of its own, with the
state in the database (``jobs``), so a page reload, another server worker or a restarted
server sees the same job. See docs/web.md, "Background jobs".

The API for the pages and for other capabilities::

    from haechi.jobs import store
    job_id = store.submit(app, "package", {"case": "SEOUL-2024-0815"}, actor, idem_key=key)
    info = store.get(app, job_id)      # JobInfo: state, percent, note, error, result ...

A kind of job is a module in ``haechi.jobs.kinds`` defining ``KIND`` (a
:class:`~haechi.jobs.model.JobKind`: its permission, a ``check`` of the parameters at
submission, and ``run(context) -> JobOutput``). ``context.progress(fraction, note)`` moves
the page's progress bar; ``context.app`` acts as the person who asked; a result file is
written in ``context.folder``. A ``UsageError`` raised by ``run`` becomes the job's
one-sentence failure; anything else is "failed unexpectedly" with its details in the log.
"""
