import { aptEnsure } from "./apt.ts";

export const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const NEEDED = {
  "/usr/bin/qemu-aarch64": "qemu-user",
  [`${ARM64_SYSROOT}/lib/libc.so.6`]: "libc6-arm64-cross",
  [`${ARM64_SYSROOT}/lib/libstdc++.so.6`]: "libstdc++6-arm64-cross",
};
/** The cross packages' loader, run explicitly: the one that matches their libc. */
const LOADER = `${ARM64_SYSROOT}/lib/ld-linux-aarch64.so.1`;

/** Debian's qemu-user and the arm64 cross libraries, installed when missing. */
export function ensureArm64Runner(): void {
  aptEnsure(NEEDED);
}

/**
 * The argv that runs an arm64 `binary` here. No `-L SYSROOT`: with it qemu maps the guest's "/" to the sysroot, and
 * oauth-sync, which opens every path from "/" down (src/fs/walk.ts), would see the sysroot instead of this machine.
 * Nor the loader the binary names (/lib/ld-linux-aarch64.so.1): on a machine with Debian's libc6:arm64 that is a
 * newer patch release than the cross libc, and the mix spins at 100% CPU. The cross loader runs the binary, with the
 * cross libraries only.
 */
export function arm64Argv(binary: string): string[] {
  return ["qemu-aarch64", LOADER, "--library-path", `${ARM64_SYSROOT}/lib`, binary];
}
