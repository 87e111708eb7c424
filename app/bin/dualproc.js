#!/usr/bin/env node
// The installed entry point: run the compiled CLI (build with `npm run build`).
import { endQuietlyOnClosedPipe } from "../dist/cli/io.js";
import { main } from "../dist/cli/main.js";

endQuietlyOnClosedPipe(process.stdout);
endQuietlyOnClosedPipe(process.stderr);
process.exitCode = await main(process.argv.slice(2));
