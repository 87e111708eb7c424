/**
 * The studio's HTTP API without a browser: access control, recipe checks with one-line errors, uploads,
 * files, the review marks, the live stream's first event, and the queue (one training at a time) against
 * a fake engine worker. The real engine and a real browser are in studio-e2e (make test-studio).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StudioEvent } from "../../src/protocol/studio.js";
import type { StudioDeps } from "../../src/server/app.js";
import { Hub } from "../../src/server/events.js";
import { RunsStore, SILENT_RUN_MS } from "../../src/runs/runs-store.js";
import { LIBRARY_DIR, guardedApp } from "../../src/server/studio.js";
import { Tools } from "../../src/server/tools.js";
import { Trainer } from "../../src/server/trainer.js";

const TOKEN = "test-token";
const HOST = "127.0.0.1:7860";
const auth = { authorization: `Bearer ${TOKEN}`, host: HOST };
const fakeTeach = fileURLToPath(new URL("../fixtures/fake-teach-worker.mjs", import.meta.url));

function studio() {
  const root = mkdtempSync(join(tmpdir(), "studio-"));
  const hub = new Hub<StudioEvent>();
  const store = new RunsStore(root);
  const trainer = new Trainer(store, (e) => hub.publish(e));
  const deps: StudioDeps = {
    store,
    trainer,
    tools: new Tools(join(root, ".studio")),
    hub,
    webDir: null,
    libraryDir: LIBRARY_DIR,
    scratchDir: join(root, ".studio"),
  };
  const app = guardedApp(deps, TOKEN, new Set([HOST]));
  const request = (path: string, init: RequestInit = {}) =>
    app.request(path, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
  const post = (path: string, body: unknown, method = "POST") =>
    request(path, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { root, app, request, post, trainer, store, tools: deps.tools };
}

const RECIPE = `name: tiny
prompts: [a sunny landscape]
questions:
  - question: Is the red line aligned with the horizon?
    visual_prompt: { kind: horizon, y: 0.3 }
training: { max_train_steps: 500, resolution_px: 64 }
`;

function png(width: number, height: number, rgb: [number, number, number]): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([...rgb, 255], i * 4);
  return PNG.sync.write(image);
}

describe("access", () => {
  const { app } = studio();

  it("refuses the API without the token, with one line saying where the token is", async () => {
    const response = await app.request("/api/runs", { headers: { host: HOST } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: expect.stringMatching(/token that `dualproc studio` printed/) as unknown,
    });
  });

  it("trades the URL's token for a cookie and drops it from the address", async () => {
    const response = await app.request("/runs?token=" + TOKEN, { headers: { host: HOST } });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/runs");
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const again = await app.request("/api/runs", { headers: { host: HOST, cookie: cookie.split(";")[0]! } });
    expect(again.status).toBe(200);
  });

  it("refuses a wrong token and a foreign Host even with the right token", async () => {
    expect(
      (await app.request("/api/runs", { headers: { host: HOST, authorization: "Bearer nope" } })).status,
    ).toBe(401);
    expect((await app.request("/api/runs", { headers: { ...auth, host: "evil.example:7860" } })).status).toBe(
      403,
    );
  });
});

describe("recipes and runs", () => {
  const { post, request } = studio();

  it("lists the shipped recipes with their image paths made absolute", async () => {
    const { recipes } = (await (await request("/api/recipes")).json()) as {
      recipes: { name: string; yaml: string }[];
    };
    expect(recipes.map((r) => r.name)).toContain("horizon-30");
    const fromImage = recipes.find((r) => r.name === "palette-from-image")!;
    expect(fromImage.yaml).toContain(join(LIBRARY_DIR, "assets/palette-reference.png"));
  });

  it("checks a recipe with the CLI's one-line errors", async () => {
    const bad = await (
      await post("/api/recipes/validate", { recipe_yaml: RECIPE.replace("question: Is", "questio: Is") })
    ).json();
    expect(bad).toEqual({ ok: false, error: "recipe:4:5: questions[0].question: required field is missing" });
    const good = await (await post("/api/recipes/validate", { recipe_yaml: RECIPE })).json();
    expect(good).toEqual({
      ok: true,
      prompts: 1,
      questions: ["Is the red line aligned with the horizon?"],
      steps: 500,
    });
  });

  it("answers bad requests with 4xx and one line, never a trace", async () => {
    const notJson = await request("/api/runs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: "the request body is not JSON" });
    const empty = await post("/api/runs", { recipe_yaml: "" });
    expect(await empty.json()).toEqual({ error: "recipe_yaml: the recipe is empty" });
    const badRecipe = await post("/api/runs", { recipe_yaml: "prompts: [a]\nquestions: []\n" });
    expect(badRecipe.status).toBe(400);
    expect(((await badRecipe.json()) as { error: string }).error).toMatch(/^recipe:2:12: questions/);
    const seeds = await post("/api/runs", { recipe_yaml: RECIPE, eval_seeds: 1000 });
    expect(((await seeds.json()) as { error: string }).error).toMatch(/^eval_seeds: /);
    expect((await request("/api/runs/no-such-run")).status).toBe(404);
    expect((await request("/api/nothing")).status).toBe(404);
  });
});

describe("drawing (the real engine)", () => {
  const { post, request, tools } = studio();
  afterAll(() => tools.close());

  it("draws a prompt and passes on the words of it the generator does not know", async () => {
    const known = (await (
      await post("/api/generate", { prompt: "a sunny landscape with trees", n: 1, seed: 0 })
    ).json()) as { images: string[]; warnings: string[] };
    expect(known.images).toHaveLength(1);
    expect(known.warnings).toEqual([]);
    expect((await request(known.images[0]!)).headers.get("content-type")).toBe("image/png");
    const unknown = (await (
      await post("/api/generate", { prompt: "a sunny landscape with a zebra", n: 1, seed: 0 })
    ).json()) as { warnings: string[] };
    expect(unknown.warnings).toEqual([
      "the generator reads 'zebra' as an unknown word (not in its vocabulary)",
    ]);
  }, 120_000);
});

describe("uploads and files", () => {
  const { request, root, store } = studio();
  const upload = (bytes: Uint8Array, name: string) => {
    const form = new FormData();
    form.append("file", new Blob([bytes]), name);
    return request("/api/uploads", { method: "POST", body: form });
  };

  it("keeps a PNG under uploads/ and returns its colours", async () => {
    const response = await upload(png(8, 8, [200, 30, 40]), "red.png");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { path: string; url: string; colours: string[] };
    expect(body.path).toMatch(/^uploads\/[0-9a-f]{16}\.png$/);
    expect(existsSync(join(root, body.path))).toBe(true);
    expect(body.colours[0]).toBe("#c81e28");
    expect((await request(body.url)).headers.get("content-type")).toBe("image/png");
  });

  it("refuses what is not an image, a damaged image and an oversized file, keeping none of them", async () => {
    const text = await upload(new TextEncoder().encode("hello"), "notes.txt");
    expect(text.status).toBe(400);
    expect(await text.json()).toEqual({ error: "notes.txt: not a PNG or JPEG image" });
    const damaged = png(8, 8, [1, 2, 3]).subarray(0, 40);
    expect(((await (await upload(damaged, "cut.png")).json()) as { error: string }).error).toMatch(
      /^cut.png: damaged image/,
    );
    const huge = await upload(new Uint8Array(9 * 1024 * 1024), "huge.png");
    expect(huge.status).toBe(413);
    const kept = readdirSync(join(root, "uploads"));
    expect(kept.filter((f) => !f.endsWith(".png"))).toEqual([]); // no .part left behind
    expect(kept).toHaveLength(1); // the red PNG of the test before
  });

  it("serves files of a run and nothing outside it", async () => {
    mkdirSync(join(root, "r1"), { recursive: true });
    writeFileSync(join(root, "r1", "recipe.yaml"), RECIPE);
    writeFileSync(join(root, "secret.txt"), "no");
    expect((await request("/api/runs/r1/files/recipe.yaml")).status).toBe(200);
    expect((await request("/api/runs/r1/files/..%2Fsecret.txt")).status).toBe(404);
    expect((await request("/api/runs/r1/files/../secret.txt")).status).toBe(404);
    const download = await request("/api/runs/r1/files/recipe.yaml?download");
    expect(download.headers.get("content-disposition")).toBe('attachment; filename="recipe.yaml"');
    expect(store.file("r1", "/etc/passwd")).toBeNull();
  });
});

describe("review", () => {
  const { request, post, root } = studio();
  const run = join(root, "reviewed");

  beforeAll(() => {
    mkdirSync(join(run, "eval", "images"), { recursive: true });
    writeFileSync(join(run, "recipe.yaml"), RECIPE);
    // What `dualproc eval` leaves in eval/run.json: each judge's probability per image and question.
    const images = [0, 1].flatMap((scale) =>
      [100, 101, 102, 103, 104].map((seed) => ({
        path: join(run, "eval", "images", `s${scale}-${seed}.png`),
        prompt_index: 0,
        prompt: "a snowy landscape",
        seed,
        lora_scale: scale,
      })),
    );
    const result = {
      out_dir: join(run, "eval"),
      questions: ["Is the red line aligned with the horizon?"],
      images,
      grids: [],
      judges: [{ judge: "scenes-judge", probabilities: images.map((_, i) => [i / 10]) }],
    };
    writeFileSync(join(run, "eval", "run.json"), JSON.stringify({ status: "succeeded", result }));
  });

  it("shows the judge's answers on the first seeds of each prompt and scale", async () => {
    const review = (await (await request("/api/runs/reviewed/review")).json()) as {
      judge: string;
      items: { key: string; seed: number; probability: number; mark: null }[];
    };
    expect(review.judge).toBe("scenes-judge");
    expect(review.items).toHaveLength(8); // 4 of 5 seeds x 2 scales x 1 question
    expect(review.items.every((i) => i.seed < 104 && i.mark === null)).toBe(true);
    expect(review.items[1]!.probability).toBeCloseTo(0.1);
  });

  it("saves marks in the run folder and puts them in the run's report", async () => {
    const key = "eval/images/s1-100.png#0";
    const saved = await post("/api/runs/reviewed/review", { marks: { [key]: "wrong" } }, "PUT");
    expect(saved.status).toBe(200);
    const marks = JSON.parse(readFileSync(join(run, "review.json"), "utf8")) as {
      marks: Record<string, string>;
    };
    expect(marks.marks).toEqual({ [key]: "wrong" });
    const report = readFileSync(join(run, "report.md"), "utf8");
    expect(report).toContain("checked 1 of the training judge's answers");
    expect(report).toContain("marked 1 wrong");
    const cleared = await post("/api/runs/reviewed/review", { marks: { [key]: null } }, "PUT");
    expect(
      ((await cleared.json()) as { items: { mark: unknown }[] }).items.every((i) => i.mark === null),
    ).toBe(true);
    const unknown = await post("/api/runs/reviewed/review", { marks: { "nope.png#0": "wrong" } }, "PUT");
    expect(unknown.status).toBe(400);
  });

  it("says when a run has no evaluation to review", async () => {
    mkdirSync(join(root, "fresh"));
    writeFileSync(join(root, "fresh", "recipe.yaml"), RECIPE);
    const response = await request("/api/runs/fresh/review");
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: string }).error).toMatch(/no evaluation yet/);
  });
});

describe("one training at a time, the rest queued (fake engine)", () => {
  const saved = process.env.DUALPROC_PYTHON;
  const s = studio();
  beforeAll(() => {
    const launcher = join(s.root, "fake-python");
    writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${fakeTeach}"\n`);
    chmodSync(launcher, 0o755);
    process.env.DUALPROC_PYTHON = launcher;
  });
  afterAll(async () => {
    await s.trainer.close();
    process.env.DUALPROC_PYTHON = saved;
  });

  const status = async () => {
    const { runs, active } = (await (await s.request("/api/runs")).json()) as {
      runs: { id: string; status: string; stage: string }[];
      active: string | null;
    };
    return { active, byId: Object.fromEntries(runs.map((r) => [r.id, r.status])) };
  };
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 300 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
  };

  it("queues a second run, stops a queued one, and starts the next when the first stops", async () => {
    const first = (await (await s.post("/api/runs", { recipe_yaml: RECIPE })).json()) as {
      id: string;
      position: number;
    };
    const second = (await (await s.post("/api/runs", { recipe_yaml: RECIPE })).json()) as {
      id: string;
      position: number;
    };
    const third = (await (await s.post("/api/runs", { recipe_yaml: RECIPE })).json()) as {
      id: string;
      position: number;
    };
    expect([first.position, second.position, third.position]).toEqual([0, 1, 2]);
    await until(async () => {
      const run = (await (await s.request(`/api/runs/${first.id}`)).json()) as { progress: unknown };
      return run.progress !== null;
    });
    let now = await status();
    expect(now.active).toBe(first.id);
    expect(now.byId).toMatchObject({ [first.id]: "running", [second.id]: "queued", [third.id]: "queued" });

    expect((await s.request(`/api/runs/${second.id}/stop`, { method: "POST" })).status).toBe(200);
    now = await status();
    expect(now.byId[second.id]).toBe("cancelled");

    await s.request(`/api/runs/${first.id}/stop`, { method: "POST" });
    await until(async () => (await status()).active === third.id);
    now = await status();
    expect(now.byId).toMatchObject({ [first.id]: "cancelled", [third.id]: "running" });
    const stopAgain = await s.request(`/api/runs/${first.id}/stop`, { method: "POST" });
    expect(stopAgain.status).toBe(409);
    // The fake engine writes no checkpoint, so there is nothing to resume from.
    const resume = await s.request(`/api/runs/${first.id}/resume`, { method: "POST" });
    expect(resume.status).toBe(409);
    expect(((await resume.json()) as { error: string }).error).toMatch(/no checkpoint to resume from/);

    // With a checkpoint it queues behind the running one; stopping it there keeps its earlier run.json.
    mkdirSync(join(s.store.dir(first.id), "checkpoints", "step-3"), { recursive: true });
    const before = readFileSync(join(s.store.dir(first.id), "run.json"), "utf8");
    const resumed = await s.request(`/api/runs/${first.id}/resume`, { method: "POST" });
    expect(resumed.status).toBe(202);
    expect(await resumed.json()).toEqual({ id: first.id, position: 1 });
    expect((await status()).byId[first.id]).toBe("queued");
    await s.request(`/api/runs/${first.id}/stop`, { method: "POST" });
    expect(readFileSync(join(s.store.dir(first.id), "run.json"), "utf8")).toBe(before);
    expect((await status()).byId[first.id]).toBe("cancelled");
  });
});

describe("runs on disk", () => {
  it("shows a run whose engine went silent long ago as interrupted, and resumable from its checkpoint", async () => {
    const { request, root } = studio();
    const dir = join(root, "killed");
    mkdirSync(join(dir, "checkpoints", "step-50"), { recursive: true });
    writeFileSync(join(dir, "recipe.yaml"), RECIPE);
    const old = new Date(Date.now() - 2 * SILENT_RUN_MS);
    const state = {
      status: "running",
      created_at: old.toISOString(),
      finished_at: null,
      progress: null,
      metrics: {},
      error: null,
    };
    writeFileSync(join(dir, "run.json"), JSON.stringify(state));
    writeFileSync(join(dir, "events.jsonl"), "{}\n");
    utimesSync(join(dir, "events.jsonl"), old, old);
    const run = (await (await request("/api/runs/killed")).json()) as {
      status: string;
      error: string;
      resumable: boolean;
      use_scale: number | null;
    };
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(/^interrupted: no word from the engine for 20 min/);
    expect(run.resumable).toBe(true);
    expect(run.use_scale).toBeNull(); // its recipe names no scale (a run's own recipe.yaml is resolved)
    const scaleOf = async (training: string) => {
      writeFileSync(join(dir, "recipe.yaml"), RECIPE.replace("resolution_px: 64", training));
      return ((await (await request("/api/runs/killed")).json()) as { use_scale: number }).use_scale;
    };
    expect(await scaleOf("resolution_px: 64, lora_scale: 2")).toBe(2); // the slider starts where it trained
    expect(await scaleOf("resolution_px: 64, lora_scale: 2, use_scale: 0.7")).toBe(0.7);
    // A run that spoke recently is still running (a CLI run in another terminal, say).
    utimesSync(join(dir, "events.jsonl"), new Date(), new Date());
    expect(((await (await request("/api/runs/killed")).json()) as { status: string }).status).toBe("running");
  });
});

describe("live stream", () => {
  const { request } = studio();
  it("opens with the run list", async () => {
    const response = await request("/api/events");
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const chunk = await reader.read();
    await reader.cancel();
    const text = new TextDecoder().decode(chunk.value as Uint8Array);
    expect(JSON.parse(text.replace(/^data: /, "").trim())).toEqual({ type: "runs", runs: [], active: null });
  });
});
