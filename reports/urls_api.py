"""JSON API routes of the reports app."""

from django.urls import path

from reports import apis

urlpatterns = [
    path("projects/<slug:slug>/reports", apis.ProjectReportListApi.as_view(), name="api-reports"),
    path("reports/<int:report_id>", apis.ReportDetailApi.as_view(), name="api-report"),
    path(
        "reports/<int:report_id>/report.html", apis.ReportHtmlApi.as_view(), name="api-report-html"
    ),
    path("reports/<int:report_id>/report.csv", apis.ReportCsvApi.as_view(), name="api-report-csv"),
]
