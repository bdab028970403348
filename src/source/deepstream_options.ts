/**
 * Command-line options of the deepstream backend and its nvmsgbroker branch, with the
 * names deepstream-test4 and deepstream-app users know.
 *
 * @module
 */

import type { ParseArgsOptionsConfig } from "node:util";

import type { PipelineOptions } from "../../ffi/pipeline.ts";
import { ConfigError, UsageError } from "../errors.ts";

/** parseArgs options of the deepstream backend. */
export const DEEPSTREAM_CLI_OPTIONS = {
  "infer-config": { type: "string" },
  "tracker-config": { type: "string" },
  "tracker-library": { type: "string" },
  "processing-size": { type: "string" },
  sink: { type: "string" },
  "broker-config": { type: "string" },
  "msgconv-blob": { type: "boolean" },
  "msgconv-config": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Help text of {@linkcode DEEPSTREAM_CLI_OPTIONS}. */
export const DEEPSTREAM_CLI_HELP = `DeepStream backend (--backend deepstream, or auto on a DeepStream host):
  --infer-config FILE        nvinfer config of the detector (configs/config_infer_primary.txt).
  --tracker-config FILE      nvtracker low-level config (configs/config_tracker_IOU.yml).
  --tracker-library FILE     nvtracker low-level library (default: the SDK's
                             libnvds_nvmultiobjecttracker.so).
  --processing-size WxH      nvstreammux width and height (default 1920x1080); the CPU
                             backend scales to it too when given.
  --sink nvmsgbroker         Publish from the pipeline with nvmsgbroker instead of
                             dskafka's Kafka sink; needs --proto-lib and --conn-str or
                             --broker-config; --topic sets the topic.
  --broker-config FILE       nvmsgbroker's adapter config (configs/cfg_kafka.txt).
  --msgconv-blob             Attach messages as NVDS_CUSTOM_MSG_BLOB for nvmsgconv
                             (msg2p-newapi) instead of sending them as they are.
  --msgconv-config FILE      nvmsgconv's config file, with --msgconv-blob.`;

/** The values parseArgs returns for {@linkcode DEEPSTREAM_CLI_OPTIONS} and the flags they use. */
export interface DeepstreamCliValues {
  "infer-config"?: string;
  "tracker-config"?: string;
  "tracker-library"?: string;
  "processing-size"?: string;
  sink?: string;
  "broker-config"?: string;
  "msgconv-blob"?: boolean;
  "msgconv-config"?: string;
  "proto-lib"?: string;
  "conn-str"?: string;
  topic?: string;
}

/** The pipeline options that the deepstream flags set. */
export type DeepstreamPipelineOptions = Pick<PipelineOptions, "processingSize" | "paths" | "msgbroker">;

/**
 * Checks the deepstream flags against the chosen backend and returns the pipeline
 * options they set.
 *
 * @throws {UsageError} For a flag that does not fit the backend or a malformed value.
 * @throws {ConfigError} For a config file that does not exist.
 */
export function deepstreamOptionsFromCli(
  values: DeepstreamCliValues,
  backend: string,
): DeepstreamPipelineOptions {
  const options: DeepstreamPipelineOptions = {};

  if (values["processing-size"] !== undefined) {
    options.processingSize = parseProcessingSize(values["processing-size"]);
  }

  const deepstreamOnly = ["infer-config", "tracker-config", "tracker-library", "sink"] as const;
  for (const name of deepstreamOnly) {
    if (values[name] !== undefined && backend !== "deepstream") {
      throw new UsageError(`--${name} needs the deepstream backend, but this run uses ${backend}`);
    }
  }
  for (const name of ["infer-config", "tracker-config"] as const) {
    const path = values[name];
    if (path !== undefined) checkFile(path, `--${name}`);
  }
  options.paths = {
    inferConfig: values["infer-config"],
    trackerConfig: values["tracker-config"],
    trackerLibrary: values["tracker-library"],
  };

  if (values.sink === undefined) {
    for (const name of ["broker-config", "msgconv-blob", "msgconv-config"] as const) {
      if (values[name] !== undefined) {
        throw new UsageError(`--${name} applies only with --sink nvmsgbroker`);
      }
    }
    return options;
  }
  if (values.sink !== "nvmsgbroker") {
    throw new UsageError(`--sink "${values.sink}" is invalid: the only pipeline sink is nvmsgbroker`);
  }

  const protoLib = values["proto-lib"];
  if (protoLib === undefined) {
    throw new UsageError(
      "--sink nvmsgbroker needs --proto-lib: the protocol adapter library, for example " +
        "/opt/nvidia/deepstream/deepstream/lib/libnvds_kafka_proto.so",
    );
  }
  if (values["conn-str"] === undefined && values["broker-config"] === undefined) {
    throw new UsageError('--sink nvmsgbroker needs --conn-str "HOST;PORT;TOPIC" or --broker-config FILE');
  }
  if (values["broker-config"] !== undefined) checkFile(values["broker-config"], "--broker-config");
  if (values["msgconv-config"] !== undefined) {
    if (!values["msgconv-blob"]) throw new UsageError("--msgconv-config applies only with --msgconv-blob");
    checkFile(values["msgconv-config"], "--msgconv-config");
  }

  const [host, port, topic] = (values["conn-str"] ?? "").split(";");
  options.msgbroker = {
    protoLib,
    connStr: values["conn-str"] === undefined ? undefined : `${host};${port}`,
    topic: values.topic ?? topic,
    brokerConfig: values["broker-config"],
    msgconvConfig: values["msgconv-config"],
    customBlob: values["msgconv-blob"] ?? false,
  };
  return options;
}

function parseProcessingSize(text: string): { width: number; height: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  const width = match ? Number(match[1]) : 0;
  const height = match ? Number(match[2]) : 0;
  if (width < 2 || height < 2 || width % 2 !== 0 || height % 2 !== 0) {
    throw new UsageError(
      `--processing-size "${text}" is invalid: use even WIDTHxHEIGHT in pixels, for example 1920x1080`,
    );
  }
  return { width, height };
}

function checkFile(path: string, option: string) {
  try {
    if (Deno.statSync(path).isFile) return;
  } catch (error) {
    throw new ConfigError(path, `${option} file "${path}" was not found: check the path`, {}, { cause: error });
  }
  throw new ConfigError(path, `${option} "${path}" is not a file: give the config file`);
}
