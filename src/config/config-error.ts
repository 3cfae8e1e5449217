// ABOUTME: The error thrown by the config loader, tagged with the load stage that failed.
// ABOUTME: Its message is `<stage>: <detail>`; the CLI prefixes `Error: loading config: `.

/** The loader stages that can fail (config spec §1). */
export type ConfigStage = "reading config file" | "parsing config file" | "parsing durations" | "validating config";

/** A config load failure. `message` is `<stage>: <detail>`, exactly as the spec prints it. */
export class ConfigError extends Error {
  readonly stage: ConfigStage;
  readonly detail: string;

  constructor(stage: ConfigStage, detail: string, options?: { cause?: unknown }) {
    super(`${stage}: ${detail}`, options);
    this.name = "ConfigError";
    this.stage = stage;
    this.detail = detail;
  }
}
