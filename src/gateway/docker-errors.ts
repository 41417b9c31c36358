import { redact } from "../log/redact.ts";
import { outputTail } from "../process/output.ts";

/** Pure: docker's own words → one line saying what is wrong and what to do. */
export function explainDockerFailure(output: string, context: { docker: string; projectDir?: string; service?: string }): string {
  const text = redact(output);
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|dial unix .*docker\.sock: connect: no such file/i.test(text)) {
    return "the Docker daemon is not running: start it (`systemctl start docker`)";
  }
  if (/permission denied while trying to connect|docker\.sock: connect: permission denied/i.test(text)) {
    return "permission denied on the Docker socket: run oauth-sync as root or as a member of the docker group";
  }
  if (/no configuration file provided|can't find a suitable configuration file|no such file or directory.*compose/i.test(text)) {
    return `no compose file in ${context.projectDir}: set gateway.projectDir (and gateway.files) to the OpenClaw project`;
  }
  if (/no such service/i.test(text)) {
    return `the compose project in ${context.projectDir} has no service "${context.service}": set gateway.service`;
  }
  if (/is not a docker command|unknown command "compose"|unknown shorthand flag/i.test(text)) {
    return `${context.docker} has no Compose v2 plugin: install docker-compose-plugin`;
  }
  return outputTail(output, 3) || "docker failed without output";
}
