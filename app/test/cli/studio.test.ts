/**
 * `dualproc studio` as a person starts it: the compiled CLI prints the URL with its token, the API answers
 * with the token and refuses without it, a port in use is one line, and Ctrl-C stops it cleanly.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const cli = fileURLToPath(new URL("../../bin/dualproc.js", import.meta.url));

function start(args: string[]): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, "studio", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr.on("data", (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, output: () => text, exit };
}

async function waitFor(check: () => RegExpExecArray | null): Promise<RegExpExecArray> {
  for (let i = 0; i < 200; i++) {
    const found = check();
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out");
}

describe("dualproc studio", () => {
  it("prints a URL with its token, serves the API with it, and stops on Ctrl-C", async () => {
    const runs = mkdtempSync(join(tmpdir(), "studio-cli-"));
    const studio = start(["--port", "0", "--runs", runs]);
    const [, base, token] = await waitFor(() =>
      /open (http:\/\/127\.0\.0\.1:\d+)\/\?token=([0-9a-f]{48})/.exec(studio.output()),
    );
    const withToken = await fetch(`${base}/api/runs`, { headers: { authorization: `Bearer ${token}` } });
    expect(await withToken.json()).toEqual({ runs: [], active: null });
    expect((await fetch(`${base}/api/runs`)).status).toBe(401);
    studio.child.kill("SIGINT");
    expect(await studio.exit).toBe(0);
  });

  it("says in one line when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
    const port = (blocker.address() as { port: number }).port;
    const studio = start(["--port", String(port), "--runs", mkdtempSync(join(tmpdir(), "studio-cli-"))]);
    expect(await studio.exit).toBe(2);
    expect(studio.output().trim()).toBe(
      `dualproc: --port ${port} is in use; pass another --port (0 picks a free one)`,
    );
    blocker.close();
  });
});
