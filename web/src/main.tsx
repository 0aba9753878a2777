// Entry point: mounts the app. Styles come from a file, never inline: the server's CSP forbids both
// inline scripts and inline styles.
import { createRoot } from "react-dom/client";
import { App } from "./app.tsx";
import "./styles.css";

createRoot(document.getElementById("root")!).render(<App />);
