/** runCli's seam to the verbs: the tree it was started from reaches the verb it runs (completion and install walk it). */
import { describe, expect, test } from "bun:test";
import { defineCommand, type CommandDef } from "citty";
import { runCli } from "../../src/commands/_dispatch.ts";
import { commandRoot } from "../../src/commands/_root.ts";

describe("runCli hands the verb its command tree", () => {
  test("a verb two words down gets the very root it was dispatched from", async () => {
    let seen: CommandDef | undefined;
    const leaf = defineCommand({
      meta: { name: "bash", description: "" },
      run({ data }) {
        seen = commandRoot(data);
      },
    });
    const root = defineCommand({ meta: { name: "oauth-sync" }, subCommands: { completion: async () => defineCommand({ meta: { name: "completion" }, subCommands: { bash: leaf } }) } });
    await runCli(root, ["completion", "bash"]);
    expect(seen).toBe(root);
  });

  test("a verb started without it fails loudly instead of walking nothing", () => {
    expect(() => commandRoot(undefined)).toThrow("the command tree was not handed to this verb");
    expect(() => commandRoot({})).toThrow("the command tree was not handed to this verb");
  });
});
