/** Entry of the PACS page: mounts the connection, search and imports on #pacs. */
import "../styles/pacs.css";
import { mountPacs } from "../features/pacs";

const root = document.getElementById("pacs");
if (root) mountPacs(root);
