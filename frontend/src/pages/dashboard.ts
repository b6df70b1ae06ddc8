/** Entry of the dashboard pages (progress, model agreement): the chart library is a separate chunk loaded here only. */
import "../styles/app.css";
import { mountDashboardPage } from "../features/dashboards";

const root = document.getElementById("dashboard-app");
if (root) void mountDashboardPage(root);
