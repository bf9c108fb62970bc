"""Forms of the jobs app, one module per page (mirroring jobs/views/)."""
