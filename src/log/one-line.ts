/** One line for any thrown value: its message, never a stack or the bundled source around it. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  return text.split("\n")[0]!.slice(0, 500);
}
