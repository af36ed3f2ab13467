"""Formal documents: letters of request, acknowledgements, refusals, certificates of custody,
written from a request's data in its language, signed (PAdES) and kept as evidence. The app
issues a step's documents through its request service's after-step hook
(:func:`mla.app_services.issue_documents`)."""
