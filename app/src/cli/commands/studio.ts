import type { Command } from "commander";
import { startStudio } from "../../server/studio.js";
import type { CliContext } from "../context.js";
import { UsageError } from "../errors.js";
import { integer } from "../options.js";

interface StudioCliOptions {
  host: string;
  port: number;
  runs: string;
  token?: string;
}

export function studioCommand(context: CliContext): Command {
  return context
    .command("studio", "the studio: teach controls from a browser, watch them train, try and download them")
    .option("--host <host>", "address to listen on (127.0.0.1: this machine only)", "127.0.0.1")
    .option("--port <port>", "port to listen on (0: any free port)", integer(0, 65535), 7860)
    .option("--runs <dir>", "the runs folder: past runs are listed from it, new runs go into it", "runs")
    .option("--token <token>", "the access token (default: a new random one each start)")
    .addHelpText(
      "after",
      "\nOpen the printed URL: it carries the access token once, then the page keeps it in a cookie.\n" +
        "One training runs at a time; others wait in a queue. Ctrl-C stops the studio (a running\n" +
        "training is cancelled at its next safe point and can be resumed with `dualproc teach --resume`).",
    )
    .action(async (options: StudioCliOptions, self: Command) => {
      const console = context.consoleFor(self);
      if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.host !== "::1")
        console.warn(`listening on ${options.host}: anyone who can reach it and has the token can use it`);
      const studio = await startStudio(options).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE")
          throw new UsageError(`--port ${options.port} is in use; pass another --port (0 picks a free one)`);
        if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND")
          throw new UsageError(`--host ${options.host}: not an address of this machine`);
        throw error;
      });
      console.result(`dualproc studio: open ${studio.openUrl}`);
      console.info(`runs folder: ${options.runs}; Ctrl-C stops the studio`);
      await new Promise<void>((done) => process.once("SIGINT", done));
      console.info("stopping (a running training is cancelled at its next safe point)");
      await studio.close();
    });
}
