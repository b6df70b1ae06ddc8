/** Entry of the case history page: the timeline and the diff of two revisions (see README.md). */
import "../styles/history.css";
import { mountHistoryPage } from "../features/history";

const root = document.getElementById("history-app");
if (root) void mountHistoryPage(root);
