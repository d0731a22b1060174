// Waits until the desktop's real app window shows an interactive UI: polls the window's DevTools endpoint
// (port from the profile's DevToolsActivePort) for the UI page, then evaluates the page until Blazor's
// interactive marker is there. Prints nothing; exits 0 when ready, 1 after the timeout.
// Usage: node --experimental-websocket bench/desktop-window-ready.mjs <profile-dir> [timeout-ms]
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [profile, timeoutArg] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg ?? 60000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pageTarget() {
  const file = join(profile, 'DevToolsActivePort');
  if (!existsSync(file)) return null;
  const port = readFileSync(file, 'utf8').split('\n')[0].trim();
  try {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
    return targets.find((t) => t.type === 'page' && /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t.url)) ?? null;
  } catch {
    return null;
  }
}

function evaluate(wsUrl, expression) {
  return new Promise((resolve) => {
    const socket = new WebSocket(wsUrl);
    socket.onopen = () => socket.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }));
    socket.onmessage = (event) => {
      const reply = JSON.parse(event.data);
      if (reply.id === 1) {
        socket.close();
        resolve(reply.result?.result?.value === true);
      }
    };
    socket.onerror = () => resolve(false);
  });
}

while (Date.now() < deadline) {
  const target = await pageTarget();
  if (target && (await evaluate(target.webSocketDebuggerUrl, "!!document.querySelector('[data-interactive=true]')"))) {
    process.exit(0);
  }
  await sleep(20);
}
process.exit(1);
