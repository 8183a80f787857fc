"""Cases: evidence, people, notices, re-upload watch and statistics (docs/cases.md).

The service functions the CLI and the web app call live in the submodules: ``service``
(open, list, status, assign, tag, note), ``items`` (evidence), ``people`` (victims and
consent, suspects), ``detail`` (read a case whole), ``notices.service`` (draft),
``notices.status`` (track), ``notices.views`` (read), ``notices.export`` (.eml, PDF),
``watch`` (re-upload watch) and ``stats``.
"""
