/**
 * `@medplum/core` references the global WebSocket at import time; Node 20 has none without
 * `--experimental-websocket` (README, "Dependencies, and what each is for"). Import this module before any `@medplum/*` module.
 * The stub only fills the gap: it never replaces a real WebSocket, and constructing it throws.
 */
const g = globalThis as { WebSocket?: unknown };
if (typeof g.WebSocket === 'undefined') {
  g.WebSocket = class WebSocketUnavailable {
    constructor() {
      throw new Error('WebSocket is not available in this process');
    }
  };
}

export {};
