/** The state file's record of the watcher: passes by a safety net that found a rotation no file event announced. */
export interface WatchState {
  missed?: number;
  lastMissedAt?: string;
  lastMissedBy?: string;
}

declare module "../state/store.ts" {
  interface StateSections {
    watch?: WatchState;
  }
}
