import { describe, expect, test } from "bun:test";
import { fingerprint, redact, registerSecret } from "../../src/log/redact.ts";

describe("redact", () => {
  test("a registered secret of any shape is replaced by its fingerprint; sk-ant- strings by pattern", () => {
    registerSecret("plain-secret-value-1");
    expect(redact("x plain-secret-value-1 y")).toBe(`x [redacted ${fingerprint("plain-secret-value-1")}] y`);
    expect(redact("sk-ant-oat01-abcDEF_123")).toBe(`sk-ant-…[${fingerprint("sk-ant-oat01-abcDEF_123")}]`);
  });

  test("the remembered secrets are bounded: the recent ones stay redacted, the oldest are forgotten", () => {
    registerSecret("oldest-secret-000");
    for (let i = 0; i < 1000; i++) registerSecret(`rotation-secret-${i}`);
    expect(redact("rotation-secret-999")).not.toContain("rotation-secret-999");
    expect(redact("rotation-secret-970")).not.toContain("rotation-secret-970");
    expect(redact("oldest-secret-000")).toBe("oldest-secret-000");
    // Read again, a secret is the newest once more.
    registerSecret("oldest-secret-000");
    expect(redact("oldest-secret-000")).not.toContain("oldest-secret-000");
  });
});
