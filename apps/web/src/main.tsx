import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { loadApi } from "./lazy-api.js";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
// The client's code comes after the first render, not before it: the form
// shows at once and the client is there by the time a name is typed. A load
// that fails here is tried again by the first call.
loadApi().catch(() => {});
