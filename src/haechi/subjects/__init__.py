"""Consent-based face search and recurring-face clustering (see docs/faces.md).

The service layer the CLI and the web UI call; nothing here prints or parses arguments.

* :mod:`.service` - subjects, consent records, enrolment, deletion
* :mod:`.search` - face search by subject or probe photo, and the search log
* :mod:`.clusters` - clustering of unknown faces, linking, the apparent-minor flag
* :mod:`.minors` - what the notices capability asks: does this file show an apparent minor?
"""
