/**
 * A real OpenClaw in a container without a registry (recipe in ../shared/TESTBED.md): the systemd bed's debootstrap
 * root imported as an image (WORKDIR /app, as upstream's image), with Node 26 and the npm-installed OpenClaw bind-mounted
 * read-only (`/app` is the package, so upstream's `node dist/index.js` works), plus the host's libatomic.
 */
import { dirname, join } from "node:path";
import { ensureNode26, ensureOpenClaw } from "../bed/openclaw.ts";
import { prepareSystemd } from "../bed/systemd.ts";
import { testbedCache } from "../bed/openclaw.ts";

export const OPENCLAW_BASE_IMAGE = "oauth-sync-test/openclaw-base:bookworm";

/** The image (built once) and the compose lines that mount Node and OpenClaw `version` into a service. */
export async function openclawContainerParts(version: string): Promise<{ image: string; volumes: string[]; path: string }> {
  await prepareSystemd();
  const have = Bun.spawnSync(["docker", "image", "inspect", OPENCLAW_BASE_IMAGE], { env: process.env, stdout: "ignore", stderr: "ignore" });
  if (have.exitCode !== 0) {
    const root = join(testbedCache(), "systemd-root");
    const made = Bun.spawnSync(["sh", "-c", `tar -C '${root}' -c . | docker import -c 'WORKDIR /app' -c 'ENV PATH=/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - ${OPENCLAW_BASE_IMAGE}`], { env: process.env, stderr: "pipe", stdout: "ignore" });
    if (made.exitCode !== 0) throw new Error(`docker import failed: ${made.stderr.toString()}`);
  }
  const nodeBin = await ensureNode26();
  const { bin } = await ensureOpenClaw(version);
  // bin is …/node_modules/.bin/openclaw: the package and its dependencies sit beside it.
  const modules = dirname(dirname(bin));
  return {
    image: OPENCLAW_BASE_IMAGE,
    path: "/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    volumes: [
      `${dirname(nodeBin)}:/opt/node:ro`,
      `${join(modules, "openclaw")}:/app:ro`,
      `${modules}:/node_modules:ro`,
      "/usr/lib/x86_64-linux-gnu/libatomic.so.1:/usr/lib/x86_64-linux-gnu/libatomic.so.1:ro",
    ],
  };
}
