/** Entry of the review page: every read of a case over one viewer, agreement, gold, comments (see README.md). */
import "../styles/app.css";
import { mountReviewPage } from "../features/review";

const root = document.getElementById("review-app");
if (root) void mountReviewPage(root);
