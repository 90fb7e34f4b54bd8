import { useEffect, useRef, useState } from "react";
import { explainFailure, loadApi } from "./lazy-api.js";

interface Props {
  name: string;
  /** A rejected name is said next to the name field, where the form says it too. */
  onNameViolation: (violation: string) => void;
}

const COUNT = 5;
const INTERVAL_MS = 400;

/** Server streaming over gRPC-Web: greetings appear one by one as they arrive. */
export function GreetStreamPanel({ name, onNameViolation }: Props) {
  const [greetings, setGreetings] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [running, setRunning] = useState(false);
  const abort = useRef<AbortController | null>(null);

  // Leaving the page cancels the call, and the server stops at once.
  useEffect(() => () => abort.current?.abort(), []);

  async function start() {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setGreetings([]);
    setError("");
    setRunning(true);
    try {
      const { greeter } = await loadApi();
      const stream = greeter.greetStream(
        { name, count: COUNT, intervalMs: INTERVAL_MS },
        { signal: controller.signal },
      );
      for await (const res of stream) setGreetings((list) => [...list, res.greeting]);
    } catch (e) {
      const { violation, message } = controller.signal.aborted
        ? { violation: undefined, message: "" }
        : await explainFailure(e, "name");
      // Stopped while the error was being read: nothing to say any more.
      if (!controller.signal.aborted) {
        if (violation) onNameViolation(violation);
        else setError(message);
      }
    } finally {
      if (abort.current === controller) setRunning(false);
    }
  }

  function stop() {
    abort.current?.abort();
    setRunning(false);
  }

  return (
    <section className="panel" aria-labelledby="stream-title">
      <h2 id="stream-title">Greetings around the world</h2>
      <p className="hint">
        {COUNT} greetings streamed by the server, {INTERVAL_MS} ms apart.
      </p>
      <div className="row">
        <button type="button" onClick={start} disabled={running}>
          Stream greetings
        </button>
        <button type="button" onClick={stop} disabled={!running}>
          Stop
        </button>
      </div>
      <ol aria-label="Streamed greetings">
        {greetings.map((g, i) => (
          // The list only grows, so the index is a stable key.
          // biome-ignore lint/suspicious/noArrayIndexKey: append-only list
          <li key={i}>{g}</li>
        ))}
      </ol>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
