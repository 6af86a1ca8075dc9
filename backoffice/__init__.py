"""The staff's pages (no models of its own): dashboard, departures, activities and prices,
reservations, webhook log and anomalies, team. Each view checks the role, then calls a
service of booking, payments or tenants; `views/` has one module per area."""
