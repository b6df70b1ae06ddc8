/** Entry of the models page: mounts the active-learning panels on #models-app. */
import "../styles/models.css";
import { mountModelsPage } from "../features/models";

const root = document.getElementById("models-app");
if (root) mountModelsPage(root, { slug: root.dataset.project ?? "", canManage: root.dataset.manage === "true" });
