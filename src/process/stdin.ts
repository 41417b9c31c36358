export type StdinRead = { ok: true; text: string } | { ok: false; message: string };

/**
 * Reads stdin up to `maxBytes`, within `timeoutMs`: a sender that sends too much or never finishes is refused
 * without the rest being read or held in memory.
 */
export async function readBoundedStdin(maxBytes: number, timeoutMs: number, stream: ReadableStream<Uint8Array> = Bun.stdin.stream()): Promise<StdinRead> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === "timeout") return { ok: false, message: `no complete message within ${Math.round(timeoutMs / 1000)} s` };
      if (next.done) break;
      length += next.value.byteLength;
      if (length > maxBytes) return { ok: false, message: `the message is larger than ${maxBytes} bytes: refused unread` };
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
    try {
      reader.releaseLock();
    } catch {
      // a read still pending: the process ends soon anyway
    }
  }
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) return { ok: false, message: "the message is not valid UTF-8" };
  return { ok: true, text };
}
