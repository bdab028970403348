/**
 * dskafka as a library: run nvdsanalytics-compatible counting on video or tracks and
 * publish the counts as JSON messages.
 *
 * The pieces follow the data flow: a {@linkcode FrameSource} (video through the C shim)
 * yields frames; the {@linkcode Tracker} gives detector boxes track ids; the
 * {@linkcode AnalyticsEngine} computes nvdsanalytics results per frame;
 * {@linkcode DeviceCounts} decides when a device's counts become a message;
 * {@linkcode buildMessage} writes the JSON; a {@linkcode Sink} sends it.
 * {@linkcode runStreams} wires them together, as the CLI does.
 *
 * @example Count the crossings of the sample video and print the messages
 * ```ts ignore
 * import {
 *   JsonLinesSink, loadAnalyticsConfig, openVideoSource, parseEmitPolicy, resolveInput, runStreams,
 * } from "./mod.ts";
 *
 * const input = await resolveInput("samples/car-detection.mp4");
 * const { config } = await loadAnalyticsConfig("configs/car-detection.txt");
 * const source = openVideoSource([input]);
 * const sink = new JsonLinesSink();
 * try {
 *   const result = await runStreams({
 *     streams: [{ input: input.text, deviceId: "gate-1", sessionKey: input.uri }],
 *     source,
 *     sink,
 *     analyticsConfig: config,
 *     emit: parseEmitPolicy("frames:30"),
 *   });
 *   console.error(result.streams[0].lineCrossings);
 * } finally {
 *   await source.close();
 *   await sink.close();
 * }
 * ```
 *
 * @module
 */

export type { Frame, FrameAnalytics, FrameObject, ObjectAnalytics } from "./src/frame.ts";
export * from "./src/errors.ts";

export { defaultDeviceId, resolveInput, SUPPORTED_SCHEMES } from "./src/source/input.ts";
export type { Input } from "./src/source/input.ts";
export type { FrameSource, SourceItem, SourceStats } from "./src/source/source.ts";
export { openVideoSource } from "./src/source/video.ts";
export type { VideoSourceOptions } from "./src/source/video.ts";
export { selectBackend } from "./src/source/backend.ts";

export { Tracker } from "./src/track/tracker.ts";
export type { TrackerOptions } from "./src/track/tracker.ts";

export { loadAnalyticsConfig, parseAnalyticsConfig } from "./src/analytics/config.ts";
export type { AnalyticsConfig, ConfigWarning } from "./src/analytics/config.ts";
export { AnalyticsEngine } from "./src/analytics/engine.ts";

export { DEFAULT_EMIT_POLICY, formatEmitPolicy, parseEmitPolicy } from "./src/emit/policy.ts";
export type { EmitPolicy } from "./src/emit/policy.ts";
export { DeviceCounts } from "./src/emit/device_counts.ts";
export type { CountsSnapshot } from "./src/emit/device_counts.ts";
export { buildMessage, messageIdFor, MESSAGE_VERSION } from "./src/payload/message.ts";
export type { MessageContext } from "./src/payload/message.ts";

export type { OutgoingMessage, Sink, SinkStats } from "./src/sink/sink.ts";
export { JsonLinesSink } from "./src/sink/stdout.ts";
export { KafkaSink } from "./src/sink/kafka.ts";
export type { KafkaSinkOptions } from "./src/sink/kafka_options.ts";

export { runStreams } from "./src/run.ts";
export type { RunOptions, RunResult, StreamResult, StreamSpec } from "./src/run.ts";

export { ShimPipeline } from "./ffi/pipeline.ts";
export type { DetectorParams, PipelineOptions, PipelineStats } from "./ffi/pipeline.ts";
export { defaultShimPath, loadShim, SHIM_PATH_VARIABLE } from "./ffi/library.ts";
