import { createWrapper } from "@parcel/watcher/wrapper";
import type { AsyncSubscription, Event, Options } from "@parcel/watcher";

// A literal path, so `bun build --compile` embeds the addon; build.ts swaps the package per release target.
const binding = require("@parcel/watcher-linux-x64-glibc/watcher.node");

export interface Watcher {
  subscribe(dir: string, fn: (error: Error | null, events: Event[]) => unknown, options?: Options): Promise<AsyncSubscription>;
}

export const watcher = createWrapper(binding) as Watcher;
export type { AsyncSubscription, Event };
