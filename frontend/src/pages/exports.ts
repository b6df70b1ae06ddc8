/** Entry of the exports page: mounts the export form and list on #exports. */
import "../styles/exports.css";
import { mountExports, type ExportChoices } from "../features/exports";

const root = document.getElementById("exports");
const data = document.getElementById("export-choices")?.textContent;
if (root && data) mountExports(root, JSON.parse(data) as ExportChoices);
