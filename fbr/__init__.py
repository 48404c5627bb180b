"""FBR / PRA fiscal invoicing (IMS PostData): the invoice model and its JSON, the HTTP client, the receipt's
QR code, and a local simulator of the authority (``fbr.simulator``). Imports nothing of Branchline's.
See docs/fbr.md ("The authority's interface")."""
