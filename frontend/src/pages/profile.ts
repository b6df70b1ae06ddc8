/** Entry of the profile page: mounts the API token manager on #tokens. */
import "../styles/profile.css";
import { mountTokens, type ProjectChoice } from "../features/tokens";

const root = document.getElementById("tokens");
const data = document.getElementById("token-projects")?.textContent;
if (root) mountTokens(root, data ? (JSON.parse(data) as ProjectChoice[]) : []);
