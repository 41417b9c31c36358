import { z } from "../config/zod.ts";
import { defineSection } from "../state/store.ts";

/**
 * The state file's record of the watcher: passes by a safety net that found a rotation no file event announced, and,
 * while the watch on the credentials directory does not hold, since when and why (the service looks at the file on a
 * short timer meanwhile).
 */
export interface WatchState {
  missed?: number;
  lastMissedAt?: string;
  lastMissedBy?: string;
  blind?: { since: string; reason: string };
}

declare module "../state/store.ts" {
  interface StateSections {
    watch?: WatchState;
  }
}

const text = z.optional(z.string());

/** Written by the watch service alone (src/watch/service.ts). */
export const watchSection = defineSection(
  "watch",
  z.looseObject({ missed: z.optional(z.number()), lastMissedAt: text, lastMissedBy: text, blind: z.optional(z.object({ since: z.string(), reason: z.string() })) }),
);
