/** One container of a compose project as `docker compose ps --format json` reports it. */
export interface ContainerState {
  id: string;
  service: string;
  state: string;
  /** "" when the service has no healthcheck. */
  health: string;
  exitCode?: number;
}

/** Pure: compose ≥ 2.21 prints one JSON object per line, older releases one array. Both are read. */
export function parseComposePs(stdout: string): ContainerState[] {
  const text = stdout.trim();
  if (!text) return [];
  const rows: unknown[] = text.startsWith("[") ? JSON.parse(text) : text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  return rows.map((row) => {
    const r = row as Record<string, unknown>;
    return {
      id: String(r.ID ?? r.Id ?? ""),
      service: String(r.Service ?? ""),
      state: String(r.State ?? "").toLowerCase(),
      health: String(r.Health ?? "").toLowerCase(),
      exitCode: typeof r.ExitCode === "number" ? r.ExitCode : undefined,
    };
  });
}

export type Readiness = { ready: true } | { ready: false; failed: boolean; why: string };

/** Pure: is the service up, still coming up, or down for good? */
export function serviceReadiness(containers: ContainerState[], service: string): Readiness {
  const mine = containers.filter((c) => c.service === service);
  if (mine.length === 0) return { ready: false, failed: false, why: `no container for ${service} yet` };
  for (const c of mine) {
    if (c.state === "exited" || c.state === "dead") return { ready: false, failed: true, why: `${service} ${c.state} (exit code ${c.exitCode ?? "?"})` };
    if (c.health === "unhealthy") return { ready: false, failed: true, why: `${service} is unhealthy` };
    if (c.state !== "running") return { ready: false, failed: false, why: `${service} is ${c.state}` };
    if (c.health && c.health !== "healthy") return { ready: false, failed: false, why: `${service} is ${c.health}` };
  }
  return { ready: true };
}
