import { describe, expect, test } from "bun:test";
import { serviceRuntimeEnv } from "../../src/process/service-runtime.ts";

const argv = (verb: string) => ["bun", "/$bunfs/root/oauth-sync", verb, "--config", "/etc/oauth-sync/config.json"];
const SETTINGS = { BUN_JSC_useJIT: "0", BUN_GC_TIMER_DISABLE: "1" };

describe("serviceRuntimeEnv: which runs restart with the service's runtime settings", () => {
  test("the compiled binary's watch: the environment plus no JIT and no GC timer", () => {
    expect(serviceRuntimeEnv(argv("watch"), { PATH: "/usr/bin" }, true)).toEqual({ PATH: "/usr/bin", ...SETTINGS });
  });
  test("already restarted: left alone (no loop)", () => {
    expect(serviceRuntimeEnv(argv("watch"), { ...SETTINGS }, true)).toBeUndefined();
  });
  test("a setting the operator chose is kept; only the missing one is added", () => {
    expect(serviceRuntimeEnv(argv("watch"), { BUN_JSC_useJIT: "1" }, true)).toEqual({ BUN_JSC_useJIT: "1", BUN_GC_TIMER_DISABLE: "1" });
    expect(serviceRuntimeEnv(argv("watch"), { BUN_JSC_useJIT: "1", BUN_GC_TIMER_DISABLE: "0" }, true)).toBeUndefined();
  });
  test("other verbs, and runs from source (bun src/main.ts), are left alone", () => {
    for (const verb of ["sync", "install", "status", "receive", "__as-owner"]) expect(serviceRuntimeEnv(argv(verb), {}, true)).toBeUndefined();
    expect(serviceRuntimeEnv(["bun", "/src/main.ts", "watch"], {}, false)).toBeUndefined();
  });
});
