import { type FormEvent, useState } from "react";
import { describeError, fieldViolations, greeter } from "./api.js";

interface Props {
  name: string;
  onNameChange: (name: string) => void;
}

type Status =
  | { kind: "idle" }
  | { kind: "busy" }
  | { kind: "ok"; text: string }
  | { kind: "error"; text: string }
  /** The server rejected the name: said next to the field, not in the status line. */
  | { kind: "invalid"; field: string };

/** The unary call: one name in, one greeting out. */
export function GreetForm({ name, onNameChange }: Props) {
  const [status, setStatus] = useState<Status>({ kind: "idle" });

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setStatus({ kind: "busy" });
    try {
      const res = await greeter.greet({ name }, { timeoutMs: 10_000 });
      setStatus({ kind: "ok", text: res.greeting });
    } catch (e) {
      const nameViolation = fieldViolations(e).get("name");
      setStatus(nameViolation ? { kind: "invalid", field: nameViolation } : { kind: "error", text: describeError(e) });
    }
  }

  const invalid = status.kind === "invalid";

  return (
    <form onSubmit={onSubmit} className="panel">
      <label htmlFor="name">Name</label>
      <div className="row">
        <input
          id="name"
          value={name}
          onChange={(e) => onNameChange(e.target.value)}
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
          {status.field}
        </p>
      )}
      <div role="status" aria-live="polite" className={status.kind === "error" ? "error" : "greeting"}>
        {status.kind === "busy" ? "Greeting…" : status.kind === "ok" || status.kind === "error" ? status.text : ""}
      </div>
    </form>
  );
}
