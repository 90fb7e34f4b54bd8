import { useState } from "react";
import { GreetForm } from "./GreetForm.js";
import { GreetStreamPanel } from "./GreetStreamPanel.js";
import { TokenField } from "./TokenField.js";

export function App() {
  const [name, setName] = useState("");
  return (
    <main>
      <h1>Greeter</h1>
      <p className="hint">gRPC-Web straight from your browser to the Greeter server — no proxy in between.</p>
      <GreetForm name={name} onNameChange={setName} />
      <GreetStreamPanel name={name} />
      <TokenField />
    </main>
  );
}
