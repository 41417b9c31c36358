// NanoClaw's .env reader (`readEnvFile` in its src/env.ts at 8521e42f7b8d991d7e842c9a8d6915464ec5d0cb), written
// from that code's behaviour (test/fixtures/nanoclaw-upstream/README.md): per line, trimmed; blank and `#` lines
// skipped; KEY=value split at the first "="; the value trimmed and one pair of matching outer quotes removed (nothing
// unescaped); empty values dropped; a later line wins. The file is `.env` in the working directory, read afresh on
// every call; nothing goes into process.env.
import fs from "node:fs";
import path from "node:path";

export function readEnvFile(keys) {
  let content;
  try {
    content = fs.readFileSync(path.join(process.cwd(), ".env"), "utf-8");
  } catch {
    return {};
  }
  const wanted = new Set(keys);
  const result = {};
  for (const raw of content.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq === -1) continue;
    const key = line.slice(0, eq).trim();
    if (!wanted.has(key)) continue;
    let value = line.slice(eq + 1).trim();
    const quoted = (value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"));
    if (quoted) value = value.slice(1, -1);
    if (value) result[key] = value;
  }
  return result;
}
