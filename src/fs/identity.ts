import { lstatSync, statSync } from "node:fs";

/**
 * A file as it is now, cheaply: device, inode, times and size. Writers that replace a file by rename give it a new
 * inode; an edit in place moves its ctime. A link is not followed unless asked (`follow`: the file it names).
 * Undefined when there is nothing there or it cannot be looked at: callers then read the file the careful way.
 */
export function fileIdentity(path: string, options: { follow?: boolean } = {}): string | undefined {
  try {
    const info = (options.follow ? statSync : lstatSync)(path, { throwIfNoEntry: false });
    return info && `${info.dev}:${info.ino}:${info.mtimeMs}:${info.ctimeMs}:${info.size}`;
  } catch {
    return undefined;
  }
}
