"""Reports and exports of cases: evidence packages, HTML/PDF reports, CASE/UCO JSON-LD."""
