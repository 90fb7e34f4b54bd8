import { useState } from "react";
import { accessToken } from "./token.js";

/** Where a person pastes an access token, for servers started with AUTH_REQUIRED=true. */
export function TokenField() {
  const [token, setToken] = useState(() => accessToken.get() ?? "");
  return (
    <details className="panel">
      <summary>Access token</summary>
      <label htmlFor="token">Bearer token (from `pnpm mint-token`)</label>
      <input
        id="token"
        value={token}
        onChange={(e) => {
          setToken(e.target.value);
          accessToken.set(e.target.value);
        }}
        autoComplete="off"
        spellCheck={false}
      />
    </details>
  );
}
