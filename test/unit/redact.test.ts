import { describe, expect, test } from "bun:test";
import { fingerprint, redact, registerSecret } from "../../src/log/redact.ts";
import { registerWebhookSecrets } from "../../src/notify/send.ts";

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

  test("the config's secrets (webhook URLs) stay redacted however many tokens rotate after them", () => {
    const url = "https://hooks.example.invalid/services/T000/B000/configured-secret";
    registerWebhookSecrets([{ url, format: "slack" }]);
    for (let i = 0; i < 1000; i++) registerSecret(`rotation-secret-b-${i}`);
    expect(redact(`POST ${url} failed`)).not.toContain("configured-secret");
    expect(redact("path /services/T000/B000/configured-secret")).not.toContain("configured-secret");
  });
});
