/** Entry of the case page: viewer + annotator mounted on #app (see README.md). */
import "../styles/app.css";
import { mountCasePage } from "../features/casePage";

const root = document.getElementById("app");
if (root) void mountCasePage(root);
