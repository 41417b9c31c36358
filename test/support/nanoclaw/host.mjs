// The host side of NanoClaw 1.x reduced to the token's way (src/container-runner.ts at 8521e42f7): for every
// message, `readSecrets()` reads .env again and the secrets go, on stdin, to an agent container spawned for it. The
// "container" here is a child that reports the fingerprint of the token it was handed. The process stays up.
import { spawn } from "node:child_process";
import { readEnvFile } from "./env.mjs";

const readSecrets = () => readEnvFile(["CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"]);
const CONTAINER = `let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
  const token = JSON.parse(s).secrets.CLAUDE_CODE_OAUTH_TOKEN;
  process.stdout.write(token ? require("node:crypto").createHash("sha256").update(token).digest("hex").slice(0, 12) : "(none)");
});`;
const every = Number(process.env.NANOCLAW_EVERY_MS || "200");

let message = 0;
for (;;) {
  const input = { prompt: `message ${++message}`, secrets: readSecrets() };
  const container = spawn(process.execPath, ["-e", CONTAINER], { stdio: ["pipe", "pipe", "inherit"] });
  container.stdin.end(JSON.stringify(input));
  delete input.secrets;
  let handed = "";
  container.stdout.on("data", (c) => (handed += c));
  const code = await new Promise((resolve) => container.on("close", resolve));
  process.stdout.write(`${JSON.stringify({ message, pid: process.pid, uid: process.getuid(), container: handed, code })}\n`);
  await new Promise((resolve) => setTimeout(resolve, every));
}
