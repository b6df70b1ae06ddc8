/** Entry of the upload page: mounts the importer on #upload. */
import "../styles/upload.css";
import { mountUpload } from "../features/upload";

const root = document.getElementById("upload");
if (root) mountUpload(root);
