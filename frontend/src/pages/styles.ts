/** Entry for the global dark theme used by every Django page (login, lists, forms). */
import "../styles/base.css";
