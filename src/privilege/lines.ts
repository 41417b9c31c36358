/**
 * Splits a byte stream into UTF-8 lines, holding at most `maxBytes` of an unfinished line: a side that sends more
 * without a newline is refused, not buffered.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The complete lines in `chunk` (after what came before), or an error once a line grows past the bound. */
  push(chunk: Uint8Array): { ok: true; lines: string[] } | { ok: false; message: string } {
    const lines: string[] = [];
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let nl = bytes.indexOf(10); nl !== -1; nl = bytes.indexOf(10)) {
      if (this.pendingBytes + nl > this.maxBytes) return this.tooLong();
      const line = Buffer.concat([...this.pending, bytes.subarray(0, nl)]);
      this.pending = [];
      this.pendingBytes = 0;
      const text = line.toString("utf8");
      if (!Buffer.from(text, "utf8").equals(line)) return { ok: false, message: "a line is not valid UTF-8" };
      lines.push(text);
      bytes = bytes.subarray(nl + 1);
    }
    if (this.pendingBytes + bytes.length > this.maxBytes) return this.tooLong();
    if (bytes.length) {
      this.pending.push(Buffer.from(bytes)); // a copy: the stream may reuse its buffer
      this.pendingBytes += bytes.length;
    }
    return { ok: true, lines };
  }

  private tooLong() {
    return { ok: false as const, message: `a line longer than ${this.maxBytes} bytes` };
  }
}
