/** Entry of the study-report page: mounts on the request form and the report list. */
import { mountReportsPage } from "../features/reports";

const form = document.getElementById("report-request");
const list = document.getElementById("report-list");
if (form instanceof HTMLFormElement && list instanceof HTMLTableElement) mountReportsPage(form, list);
