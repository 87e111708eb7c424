/**
 * `dualproc studio`: the server. Wires the run store, the trainer (one teach at a time, a queue), the
 * quick-job worker and the live stream into the HTTP app, behind the access token, and listens on
 * 127.0.0.1 unless told otherwise.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { repoRoot } from "../engine/python.js";
import type { StudioEvent } from "../protocol/studio.js";
import { accessControl, newToken } from "./access.js";
import { studioApp, type StudioDeps } from "./app.js";
import { Hub } from "./events.js";
import { RunsStore } from "../runs/runs-store.js";
import { Tools } from "./tools.js";
import { Trainer } from "./trainer.js";

export interface StudioOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  runs: string;
  /** A fixed token (tests, scripts); a random one by default. */
  token?: string;
}

export interface RunningStudio {
  url: string;
  /** The URL to open: it carries the token once. */
  openUrl: string;
  token: string;
  trainer: Trainer;
  close(): Promise<void>;
}

export const WEB_DIR = join(repoRoot, "app", "web", "dist");
export const LIBRARY_DIR = join(repoRoot, "recipes");

export async function startStudio(options: StudioOptions): Promise<RunningStudio> {
  const root = resolve(options.runs);
  mkdirSync(root, { recursive: true });
  const scratchDir = join(root, ".studio", "generated");
  const hub = new Hub<StudioEvent>();
  const store = new RunsStore(root);
  const trainer = new Trainer(store, (event) => hub.publish(event));
  const tools = new Tools(scratchDir);
  const token = options.token ?? newToken();

  const deps: StudioDeps = {
    store,
    trainer,
    tools,
    hub,
    webDir: existsSync(join(WEB_DIR, "index.html")) ? WEB_DIR : null,
    libraryDir: LIBRARY_DIR,
    scratchDir,
  };
  const { server, port } = await listen(options, (hosts) => guardedApp(deps, token, hosts));
  const shownHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${shownHost}:${port}`;
  return {
    url,
    openUrl: `${url}/?token=${token}`,
    token,
    trainer,
    close: async () => {
      await trainer.close();
      await tools.close();
      server.closeAllConnections?.();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** The studio's app behind its access control: what the server serves, and what the tests call. */
export function guardedApp(deps: StudioDeps, token: string, hosts: Set<string> | null): Hono {
  return new Hono().use(accessControl(token, hosts)).route("/", studioApp(deps));
}

type NodeServer = ReturnType<typeof serve> & { closeAllConnections?: () => void };

/** Listen first (the port may be 0), then build the app knowing which Host headers are ours. */
async function listen(
  options: StudioOptions,
  build: (hosts: Set<string> | null) => Hono,
): Promise<{ server: NodeServer; port: number }> {
  const built: { app?: Hono } = {};
  const server = serve({
    fetch: (request, env) => built.app!.fetch(request, env),
    hostname: options.host,
    port: options.port,
  }) as NodeServer;
  await new Promise<void>((done, fail) => {
    server.once("listening", done);
    server.once("error", fail);
  });
  const port = (server.address() as AddressInfo).port;
  const loopback = ["127.0.0.1", "localhost", "::1"];
  const names = ["127.0.0.1", "localhost", "[::1]"];
  built.app = build(loopback.includes(options.host) ? new Set(names.map((name) => `${name}:${port}`)) : null);
  return { server, port };
}
