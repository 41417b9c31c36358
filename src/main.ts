import { main } from "./cli.ts";
import { runCli } from "./commands/_dispatch.ts";
import { installCrashHandlers, leave } from "./commands/_edge.ts";
import { EXIT } from "./exit-codes.ts";
import { logger } from "./log/logger.ts";
import { oneLine } from "./log/one-line.ts";
import { AS_OWNER_VERB } from "./privilege/self.ts";
import { restartWithServiceRuntime } from "./process/service-runtime.ts";

restartWithServiceRuntime();
installCrashHandlers();
if (process.argv[2] === AS_OWNER_VERB) {
  // Not a verb for people: root starts it to act in another user's place (it becomes that user at once).
  void Promise.all([import("./privilege/worker.ts"), import("./targets/index.ts")]).then(async ([{ serveAsOwner }, { createLocalTarget }]) =>
    process.exit(await serveAsOwner(createLocalTarget)),
  );
} else {
  runCli(main, process.argv.slice(2)).catch((error) => {
    const line = `oauth-sync failed: ${oneLine(error)}`;
    logger.error(line);
    leave(EXIT.failed, [line]);
  });
}
