import { type FormEvent, useState } from "react";
import { explainFailure, loadApi } from "./lazy-api.js";

interface Props {
  name: string;
  onNameChange: (name: string) => void;
  /** The server's objection to the name, shown next to the field until the name changes. */
  nameViolation: string | undefined;
  onNameViolation: (violation: string) => void;
}

type Status = { kind: "idle" } | { kind: "busy" } | { kind: "ok"; text: string } | { kind: "error"; text: string };

/** The unary call: one name in, one greeting out. */
export function GreetForm({ name, onNameChange, nameViolation, onNameViolation }: Props) {
  const [status, setStatus] = useState<Status>({ kind: "idle" });

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setStatus({ kind: "busy" });
    try {
      const { greeter } = await loadApi();
      const res = await greeter.greet({ name }, { timeoutMs: 10_000 });
      setStatus({ kind: "ok", text: res.greeting });
    } catch (e) {
      const { violation, message } = await explainFailure(e, "name");
      if (violation) {
        onNameViolation(violation);
        setStatus({ kind: "idle" });
      } else {
        setStatus({ kind: "error", text: message });
      }
    }
  }

  function onChange(next: string) {
    onNameChange(next);
    // A greeting or an error is about the name that was sent: once the
    // person edits it, the line below would no longer be true.
    if (status.kind !== "busy") setStatus({ kind: "idle" });
  }

  const invalid = nameViolation !== undefined;

  return (
    <form onSubmit={onSubmit} className="panel">
      <label htmlFor="name">Name</label>
      <div className="row">
        <input
          id="name"
          value={name}
          onChange={(e) => onChange(e.target.value)}
          autoComplete="given-name"
          aria-invalid={invalid}
          aria-describedby={invalid ? "name-error" : undefined}
        />
        <button type="submit" disabled={status.kind === "busy"}>
          Greet
        </button>
      </div>
      {invalid && (
        <p id="name-error" className="field-error" role="alert">
          {nameViolation}
        </p>
      )}
      <div role="status" aria-live="polite" className={status.kind === "error" ? "error" : "greeting"}>
        {status.kind === "busy" ? "Greeting…" : status.kind === "ok" || status.kind === "error" ? status.text : ""}
      </div>
    </form>
  );
}
