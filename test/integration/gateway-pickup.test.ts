/**
 * The reason `install` proposes no gateway reload for 2026.5.28 (auth-profiles.json) and 2026.9.6 (openclaw-cli): a
 * running gateway uses the token oauth-sync synced with no restart. bench/pickup.ts prints how fast.
 */
import { describe, expect, test } from "bun:test";
import { measurePickup } from "../support/gateway-pickup.ts";

describe("a running gateway uses a synced token without a restart", () => {
  for (const version of ["2026.5.28", "2026.9.6"]) {
    test(`${version}`, async () => {
      const { delays, samePid, throughGateway } = await measurePickup(version, 1);
      console.log(`${version}: new bearer seen ${(delays[0]! / 1000).toFixed(1)} s after the sync`);
      expect({ picked: delays.length, samePid, throughGateway }).toEqual({ picked: 1, samePid: true, throughGateway: true });
    }, 600_000);
  }
});
