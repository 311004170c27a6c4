"""The dashboard: overview, item lists and detail, sync runs, charts. Server-rendered, works without JS."""
