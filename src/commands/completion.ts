import { defineCommand } from "citty";
import { bashCompletion } from "../completion/bash.ts";
import { fishCompletion } from "../completion/fish.ts";
import { commandTree, type CommandNode } from "../completion/tree.ts";
import { zshCompletion } from "../completion/zsh.ts";
import { print } from "../log/logger.ts";
import { commandRoot } from "./_root.ts";

const shell = (name: string, description: string, render: (tree: CommandNode) => string) =>
  defineCommand({
    meta: { name, description },
    async run({ data }) {
      print(render(await commandTree(commandRoot(data))));
    },
  });

export default defineCommand({
  meta: { name: "completion", description: "Print shell completion, generated from the command tree: bash, zsh or fish" },
  subCommands: {
    bash: shell("bash", "source <(oauth-sync completion bash), or save as /etc/bash_completion.d/oauth-sync", bashCompletion),
    zsh: shell("zsh", "Save as _oauth-sync in a directory on $fpath", zshCompletion),
    fish: shell("fish", "Save as ~/.config/fish/completions/oauth-sync.fish", fishCompletion),
  },
});
