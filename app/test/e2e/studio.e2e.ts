/**
 * The studio in a real browser: write a control on the page (a preview, the horizon line dragged into
 * place, a bad upload refused), start a short teach on the embedded models, watch the score update live,
 * download the LoRA and load it in the engine, try it on a new prompt, and mark a judge answer wrong.
 * Screenshots of each stage go to out/studio-e2e/ (or $STUDIO_SCREENSHOTS).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineWorker } from "../../src/engine/worker.js";
import { repoRoot } from "../../src/engine/python.js";
import { WEB_DIR, startStudio, type RunningStudio } from "../../src/server/studio.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = process.env.STUDIO_SCREENSHOTS ?? join(repoRoot, "out", "studio-e2e");
const TEACH_TIMEOUT_MS = 400_000;

let studio: RunningStudio;
let browser: Browser;
let page: Page;
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, "index.html")))
    throw new Error("the studio's page is not built: run `make build` first");
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM)`);
  mkdirSync(SHOTS, { recursive: true });
  studio = await startStudio({
    host: "127.0.0.1",
    port: 0,
    runs: mkdtempSync(join(tmpdir(), "studio-e2e-")),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 }, acceptDownloads: true });
  page.on("pageerror", (error) => {
    throw error;
  });
});

afterAll(async () => {
  await browser?.close();
  await studio?.close();
});

describe("the studio in a browser", () => {
  it("teaches a control from the page, live, and hands over a LoRA that loads", async () => {
    await page.goto(studio.openUrl);
    await expect.poll(() => page.url()).toBe(`${studio.url}/`); // the token left the address bar
    await page.getByTestId("recipe-check").getByText("✓").waitFor();

    // A mistake on the page gets a message on the page: an empty question, a file that is not an image.
    await page.getByTestId("add-question").click();
    await page.getByTestId("recipe-check").getByText("must not be empty").waitFor();
    expect(await page.getByTestId("start").isDisabled()).toBe(true);
    await page.getByTestId("question-text-1").fill("Are these the colours of the image?");
    await page.getByTestId("visual-kind-1").selectOption("palette");
    await page
      .getByTestId("question-1")
      .getByTestId("upload")
      .setInputFiles({
        name: "notes.txt",
        mimeType: "text/plain",
        buffer: Buffer.from("not a picture"),
      });
    await page.getByRole("alert").getByText("notes.txt: not a PNG or JPEG image").waitFor();
    await shot("teach-errors");
    await page.getByTestId("question-1").getByRole("button", { name: "remove" }).click();

    // Draw a preview and drag the red line to 30% of the height.
    await page.getByTestId("preview").click();
    await appears(page.locator(".canvas-box img"), 120_000);
    const canvas = await page.getByTestId("visual-prompt-canvas").boundingBox();
    await page.mouse.move(canvas!.x + canvas!.width / 2, canvas!.y + 0.6 * canvas!.height);
    await page.mouse.down();
    await page.mouse.move(canvas!.x + canvas!.width / 2, canvas!.y + 0.3 * canvas!.height, { steps: 5 });
    await page.mouse.up();
    const y = Number(await page.getByTestId("horizon-y").inputValue());
    expect(y).toBeGreaterThan(0.28);
    expect(y).toBeLessThan(0.32);

    await page.getByTestId("recipe-name").fill("e2e-horizon");
    await page.getByTestId("training-max_train_steps").fill("8");
    await page.getByTestId("eval-seeds").fill("2");
    await page.getByTestId("keep").fill("Is it night-time?"); // an answer the control should leave alone
    await page.getByTestId("recipe-check").getByText("8 steps").waitFor();
    // Focus leaves the seeds field before the full-page screenshot: after one, Chromium restores the scroll
    // position when a field loses focus, and the page would move under the click.
    await page.getByTestId("start").focus();
    await shot("teach");
    await page.getByTestId("start").click();

    // The run view: the busy state, then scores that move as steps arrive.
    await page.getByTestId("run-view").waitFor();
    await page.getByTestId("busy").getByText("training e2e-horizon").waitFor({ timeout: 60_000 });
    await page.getByTestId("scores").waitFor({ timeout: TEACH_TIMEOUT_MS });
    const firstScores = await page.getByTestId("scores").textContent();
    await expect
      .poll(() => page.getByTestId("scores").textContent(), { timeout: TEACH_TIMEOUT_MS })
      .not.toBe(firstScores);
    await shot("training");
    await page.getByTestId("run-status").getByText("succeeded").waitFor({ timeout: TEACH_TIMEOUT_MS });
    await page.getByTestId("verdict").waitFor();
    const curve = await page
      .getByTestId("score-curve")
      .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    expect(curve).toBeGreaterThan(0);
    await shot("done");
    // The evaluation says whether the answer to keep stayed, judge by judge.
    const href = (await page.getByTestId("eval-report").getAttribute("href"))!;
    const report = await page.request.get(new URL(href, page.url()).toString());
    expect(await report.text()).toContain("Kept answers");

    // Download the LoRA and load it: its header, then the engine generating with it.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("download-lora").click(),
    ]);
    const file = join(mkdtempSync(join(tmpdir(), "lora-")), download.suggestedFilename());
    await download.saveAs(file);
    expect(download.suggestedFilename()).toBe("pytorch_lora_weights.safetensors");
    const header = safetensorsHeader(file);
    expect(Object.keys(header).some((k) => /lora_A\.weight$/.test(k))).toBe(true);
    const worker = await EngineWorker.start();
    try {
      const out = mkdtempSync(join(tmpdir(), "generated-"));
      const result = await worker.run("generate", {
        prompt: "a grassy meadow at midday",
        n: 2,
        seed: 3,
        num_inference_steps: 1,
        generator: "scenes-generator",
        lora: file,
        lora_scale: 1,
        guidance_scale: null,
        out_dir: out,
      });
      expect(result.count).toBe(2);
    } finally {
      await worker.close();
    }

    // Try it on a new prompt, then review the judge.
    await page.getByTestId("try-prompt").fill("a night landscape with mountains");
    await page.getByTestId("try-generate").click();
    await appears(page.getByTestId("try-result"), 120_000);
    await shot("try");
    await page.getByTestId("review-link").click();
    await page.getByTestId("review-item").first().waitFor();
    await page.getByTestId("mark-wrong").first().click();
    await page.getByTestId("review-count").getByText("1 marked wrong").waitFor();
    await shot("review");
  });

  it("stops a training at any time and resumes it from its checkpoint", async () => {
    await page.goto(`${studio.url}/`);
    await page.getByTestId("recipe-name").fill("e2e-stop");
    await page.getByTestId("training-max_train_steps").fill("500");
    await page.getByTestId("recipe-check").getByText("500 steps").waitFor();
    await page.getByTestId("start").click();
    await page.getByTestId("scores").waitFor({ timeout: TEACH_TIMEOUT_MS });
    await page.getByTestId("stop").click();
    await page.getByTestId("run-status").getByText("cancelled").waitFor({ timeout: 120_000 });
    await page.getByTestId("resume").click();
    await page.getByTestId("run-status").getByText("running").waitFor({ timeout: 60_000 });
    await page.getByTestId("log").getByText("resum", { exact: false }).first().waitFor({ timeout: 120_000 });
    await shot("resumed");
    await page.getByTestId("stop").click();
    await page.getByTestId("run-status").getByText("cancelled").waitFor({ timeout: 120_000 });
  });
});

/** Wait for `locator`; if the page shows an error instead, fail at once with the page's words. */
async function appears(locator: Locator, timeout: number): Promise<void> {
  const error = page.getByRole("alert").first();
  await Promise.race([
    locator.waitFor({ timeout }),
    error.waitFor({ timeout }).then(
      async () => {
        throw new Error(`the page says: ${await error.textContent()}`);
      },
      () => undefined, // no error shown in time: the locator's own wait decides
    ),
  ]);
}

/** The JSON header of a .safetensors file (8-byte little-endian length, then the header). */
function safetensorsHeader(path: string): Record<string, unknown> {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<string, unknown>;
}
