from django.urls import path

from backoffice.views import (
    activity_editor,
    catalogue,
    changes,
    checkin,
    dashboard,
    departures,
    manifest,
    panel,
    photos,
    reports,
    reservations,
    team,
    webhooks,
)

app_name = "backoffice"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("departures/", departures.departure_list, name="departures"),
    path("departures/new/", departures.departures_create, name="departures-create"),
    path("departures/<int:slot_id>/", departures.departure_detail, name="departure"),
    path("departures/<int:slot_id>/manifest/", manifest.manifest, name="manifest"),
    path(
        "departures/<int:slot_id>/manifest.json",
        manifest.manifest,
        {"as_json": True},
        name="manifest-json",
    ),
    path("departures/<int:slot_id>/check-in/", checkin.checkin, name="checkin"),
    path("activities/", catalogue.activity_list, name="activities"),
    path("activities/new/", activity_editor.activity_create, name="activity-create"),
    path("activities/<int:activity_id>/", activity_editor.activity_edit, name="activity"),
    path("activities/<int:activity_id>/photos/", photos.activity_photos, name="activity-photos"),
    path("reservations/", reservations.reservation_list, name="reservations"),
    path("reservations/export/", reservations.reservations_export, name="export"),
    path("reservations/<str:code>/", reservations.reservation_detail, name="reservation"),
    path("reservations/<str:code>/change/", changes.reservation_change, name="reservation-change"),
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", webhooks.webhook_detail, name="webhook"),
    path("anomalies/", webhooks.anomaly_list, name="anomalies"),
    path("reports/", reports.reports, name="reports"),
    path("team/", team.team, name="team"),
    path("panel/", panel.panel, name="panel"),
    path("panel/mapping/", panel.panel_mapping, name="panel-mapping"),
    path("panel/conflicts/", panel.panel_conflicts, name="panel-conflicts"),
]
