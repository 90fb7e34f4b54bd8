import { useState } from "react";
import { GreetForm } from "./GreetForm.js";
import { GreetStreamPanel } from "./GreetStreamPanel.js";
import { TokenField } from "./TokenField.js";

export function App() {
  const [name, setName] = useState("");
  // What the server last said is wrong with the name, from either call. It
  // lives here, beside the name, so that editing the name clears it for both
  // panels: a violation is about the text that was sent, not the text typed.
  const [nameViolation, setNameViolation] = useState<string | undefined>();
  const onNameChange = (next: string) => {
    setName(next);
    setNameViolation(undefined);
  };
  return (
    <main>
      <h1>Greeter</h1>
      <p className="hint">gRPC-Web straight from your browser to the Greeter server — no proxy in between.</p>
      <GreetForm
        name={name}
        onNameChange={onNameChange}
        nameViolation={nameViolation}
        onNameViolation={setNameViolation}
      />
      <GreetStreamPanel name={name} onNameViolation={setNameViolation} />
      <TokenField />
    </main>
  );
}
