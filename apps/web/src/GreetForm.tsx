import { type FormEvent, useState } from "react";
import { describeError, greeter } from "./api.js";

interface Props {
  name: string;
  onNameChange: (name: string) => void;
}

type Status = { kind: "idle" } | { kind: "busy" } | { kind: "ok"; text: string } | { kind: "error"; text: string };

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
      setStatus({ kind: "error", text: describeError(e) });
    }
  }

  return (
    <form onSubmit={onSubmit} className="panel">
      <label htmlFor="name">Name</label>
      <div className="row">
        <input id="name" value={name} onChange={(e) => onNameChange(e.target.value)} autoComplete="given-name" />
        <button type="submit" disabled={status.kind === "busy"}>
          Greet
        </button>
      </div>
      <div role="status" aria-live="polite" className={status.kind === "error" ? "error" : "greeting"}>
        {status.kind === "busy" ? "Greeting…" : status.kind === "idle" ? "" : status.text}
      </div>
    </form>
  );
}
