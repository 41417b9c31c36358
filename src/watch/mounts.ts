import { logger } from "../log/logger.ts";
import { DEFAULT_PATH } from "../process/run.ts";

/** findmnt -r escapes blanks and backslashes as \xHH. */
const unescape = (text: string) => text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

/** Pure: one line of `findmnt --poll -n -r -o ACTION,TARGET` → the mount point that changed. */
export function parseMountLine(line: string): { action: string; target: string } | undefined {
  const match = /^(\S+) (.+)$/.exec(line.trim());
  return match ? { action: match[1]!, target: unescape(match[2]!) } : undefined;
}

/**
 * Mount-table changes without polling: util-linux's `findmnt --poll` sleeps in poll(2) on /proc/self/mountinfo and
 * prints one line per mount, unmount or move. A bind mount over the watched directory sends no inotify event, so this
 * is how it is seen. Undefined when findmnt is not installed (the safety-net passes still check the directory).
 */
export function watchMounts(onChange: (target: string) => void): { stop(): Promise<unknown> } | undefined {
  const PATH = DEFAULT_PATH;
  const findmnt = Bun.which("findmnt", { PATH });
  if (!findmnt) {
    logger.debug("findmnt (util-linux) not found: a directory mounted over is noticed at the next safety-net pass");
    return undefined;
  }
  const child = Bun.spawn([findmnt, "--poll", "-n", "-r", "-o", "ACTION,TARGET"], { env: { PATH }, stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  let stopped = false;
  void (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const change = parseMountLine(line);
        if (change) onChange(change.target);
      }
    }
    if (!stopped) logger.warn("findmnt --poll ended: mounts over the credentials directory are noticed at the next safety-net pass");
  })().catch(() => {});
  child.unref();
  return {
    /** Resolves once findmnt has exited (a service rebuilt on SIGHUP must leave no child behind). */
    stop() {
      stopped = true;
      child.kill();
      return child.exited;
    },
  };
}
