/** Entry of the per-case measurement page: every visible read's values side by side, linked to their chords. */
import "../styles/app.css";
import { mountCaseMeasurementsPage } from "../features/caseMeasurements";

const root = document.getElementById("measurements-app");
if (root) void mountCaseMeasurementsPage(root);
