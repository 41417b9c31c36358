/**
 * A process that updates the state file again and again, for the cross-process tests of src/state/store.ts:
 *   bun test/support/state-writer.ts STATE_DIR SECTION COUNT [START_AT]
 * Each update adds 1 to a counter in SECTION (`watch`: watch.missed, `refresh`: refresh.failures, `gateway`:
 * gateway.attempts), read-modify-write through the section's own `update`, as the service and the verbs do; all
 * writers begin at START_AT (epoch ms). SECTION `hold`: take the state lock, say "held" and keep it until killed.
 */
import { takePidLock } from "../../src/fs/pid-lock.ts";
import { gatewaySection } from "../../src/gateway/types.ts";
import { STATE_LOCK } from "../../src/state/store.ts";
import { refreshSection } from "../../src/refresh/record.ts";
import { watchSection } from "../../src/watch/record.ts";

const [dir, section, count] = process.argv.slice(2);
if (dir && section === "hold") {
  if (!(await takePidLock(dir, STATE_LOCK.name, STATE_LOCK)).taken) throw new Error("the state lock is held");
  console.log("held");
  await new Promise(() => {});
}
if (!dir || !section || !count) throw new Error("usage: state-writer.ts STATE_DIR SECTION COUNT [START_AT]");
const updates = {
  watch: () => watchSection.update(dir, (mine) => void (mine.watch = { ...mine.watch, missed: (mine.watch?.missed ?? 0) + 1 })),
  refresh: () => refreshSection.update(dir, (mine) => void (mine.refresh = { ...mine.refresh, failures: (mine.refresh?.failures ?? 0) + 1 })),
  gateway: () => gatewaySection.update(dir, (mine) => void (mine.gateway = { ...mine.gateway, attempts: (mine.gateway?.attempts ?? 0) + 1 })),
}[section];
if (!updates) throw new Error(`no counter in section ${section}`);
// Start together: every writer waits for the same moment (argv 5: epoch ms).
const at = Number(process.argv[5] ?? 0);
if (at > Date.now()) await Bun.sleep(at - Date.now());
for (let i = 0; i < Number(count); i++) await updates();
