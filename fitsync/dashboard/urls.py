from django.urls import path, register_converter

from ..routes import ROUTES
from . import alert_settings, chart_views, controls, export, items, overview, route_switches, runs


class RouteList:
    """/<list_path>/ of a route in the table, as the route's name; anything else matches no list."""

    regex = r"[a-z0-9_-]+"

    def to_python(self, value: str) -> str:
        for route in ROUTES.values():
            if route.list_slug == value:
                return route.name
        raise ValueError(value)  # not a list: the patterns after this one are tried

    def to_url(self, name: str) -> str:
        return ROUTES[name].list_slug


register_converter(RouteList, "route_list")

app_name = "dashboard"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("sync-now/<str:route>/", overview.sync_now, name="sync_now"),
    path("items/<int:pk>/", items.item_detail, name="item"),
    path("items/<int:pk>/<str:action>/", items.item_action, name="item_action"),
    path("bulk/resync-failed/", items.bulk_resync_failed, name="bulk_resync_failed"),
    path("bulk/upload-held/", items.bulk_upload_held, name="bulk_upload_held"),
    path("runs/", runs.run_list, name="runs"),
    path("runs/<int:pk>/", runs.run_detail, name="run"),
    path("runs/<int:pk>/progress/", runs.run_progress, name="run_progress"),
    path("charts/", chart_views.chart_page, name="charts"),
    path("services/<str:provider>/disconnect/", controls.disconnect_service, name="disconnect"),
    path("routes/<str:route>/pause/", controls.pause_route, name="pause_route"),
    path("routes/<str:route>/resume/", controls.resume_route, name="resume_route"),
    path("routes/<str:route>/on/", route_switches.turn_on, name="turn_on_route"),
    path("routes/<str:route>/off/", route_switches.turn_off, name="turn_off_route"),
    path("routes/<str:route>/options/", route_switches.options, name="route_options"),
    path("<route_list:route>/export.csv", export.export_csv, name="export"),
    path("alerts/", alert_settings.alert_settings, name="alerts"),
    path("alerts/test/", alert_settings.send_test, name="alerts_test"),
    path("<route_list:route>/", items.item_list, name="items"),
]
