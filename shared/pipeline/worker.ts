import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describeFailure, toVectorizerError, type VectorizerError } from '../errors.ts';
import { logger } from '../logger.ts';
import { deadlineOf, Pace } from './deadline.ts';
import { DeadlineExceededError } from './errors.ts';
import { processJob } from './process-job.ts';
import { type ObjectOutcome, type PipelineServices, processObject } from './process-object.ts';
import { processPart } from './process-part.ts';
import { parseWorkItem } from './records.ts';
import { type Running, type WorkContext, workContext } from './work.ts';

/**
 * Handles one SQS record: an S3 notification (each object embedded), a job message, or an event
 * to ignore. Returns normally when the record is done (including permanent failures, which are
 * recorded); throws on transient faults so only this record is retried.
 */
export async function processRecord(record: SQSRecord, services: PipelineServices, work: WorkContext = workContext()): Promise<void> {
  let item: ReturnType<typeof parseWorkItem>;
  try {
    item = parseWorkItem(record.body);
  } catch (error) {
    // A body that is neither an S3 event nor a job will never parse: drop it, loudly.
    const failure = toVectorizerError(error);
    logger.error('message refused', { message_id: record.messageId, code: failure.code, reason: failure.message });
    return;
  }
  if (item.kind === 'ignore') {
    logger.debug('message ignored', { message_id: record.messageId, reason: item.reason });
    return;
  }
  // Out of time before it started: back to the queue untouched (a started text continues itself instead).
  if (work.deadline.remainingMs() <= 0) {
    throw retried(record, new DeadlineExceededError("The invocation's time ran out before this record was started."), item.kind);
  }
  if (item.kind === 'part') {
    const { part } = item;
    await processPart(part, services, work).catch((error: unknown) => {
      throw retried(record, error, `s3://${part.bucket}/${part.key} chunks ${part.from}..${part.to}`);
    });
    return;
  }
  if (item.kind === 'job') {
    await processJob(item.body, record.messageId, services).catch((error: unknown) => {
      throw retried(record, error, 'job');
    });
    return;
  }
  // All objects of the record run concurrently: their S3 reads overlap, and their texts share
  // token-budget batches with every other record of the SQS batch (see coalesce).
  const results = await Promise.allSettled(item.objects.map((object) => processObject(object, services, { work })));
  recordLatency(record, results, services);
  const failed = results.flatMap((result, index) =>
    result.status === 'rejected' ? [{ object: item.objects[index], reason: result.reason }] : [],
  );
  for (const { object, reason } of failed.slice(1)) retried(record, reason, `s3://${object.bucket}/${object.key}`);
  if (failed.length > 0) throw retried(record, failed[0].reason, `s3://${failed[0].object.bucket}/${failed[0].object.key}`);
}

/** From the notification's arrival on the queue to each vectors document written. */
function recordLatency(record: SQSRecord, results: PromiseSettledResult<ObjectOutcome>[], services: PipelineServices): void {
  const sent = Number(record.attributes?.SentTimestamp);
  if (!services.metrics || !Number.isFinite(sent)) return;
  for (const result of results) {
    if (result.status === 'fulfilled' && result.value === 'written') services.metrics.duration('QueueToVectorLatency', Date.now() - sent);
  }
}

/**
 * The batch's size, and its failed records: back to the queue (Retries), or, on their last
 * allowed receive (MAX_RECEIVE_COUNT), to the DLQ (DlqMoves).
 */
function recordBatch(event: SQSEvent, response: SQSBatchResponse, services: PipelineServices): void {
  const { metrics } = services;
  if (!metrics) return;
  metrics.count('BatchSize', event.Records.length);
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const limit = services.config.metrics.maxReceiveCount;
  let moves = 0;
  for (const record of event.Records) {
    if (failed.has(record.messageId) && limit !== undefined && Number(record.attributes?.ApproximateReceiveCount) >= limit) moves++;
  }
  metrics.count('Retries', failed.size - moves);
  metrics.count('DlqMoves', moves);
}

/**
 * Logs why a record goes back to the queue (every transient failure says so, on Lambda too: the
 * DLQ is no place to first learn of a fault) and gives the error to throw.
 */
function retried(record: SQSRecord, error: unknown, what: string): VectorizerError {
  const failure = toVectorizerError(error);
  logger.warn('record will be retried', {
    message_id: record.messageId,
    receive_count: record.attributes?.ApproximateReceiveCount,
    what,
    code: failure.code,
    reason: describeFailure(failure),
  });
  return failure;
}

/**
 * Processes an SQS batch with partial batch responses: records are handled concurrently, and only
 * the ones that failed transiently are reported in `batchItemFailures` (and retried by SQS).
 */
export function createSqsBatchHandler(
  services: PipelineServices,
): (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse> {
  // How fast embedding goes in this process, learnt across invocations; work running in it.
  const pace = new Pace();
  const running: Running = new Map();
  return async (event: SQSEvent, context?: Partial<Context>) => {
    const processor = new BatchProcessor(EventType.SQS);
    // The invocation's time (Lambda's remaining time; the local event source's timeout): texts stop
    // taking new slices before it and continue from the queue; records not started go back to it.
    const work = workContext(deadlineOf(context), pace, running);
    const response = await processPartialResponse(event, (record: SQSRecord) => processRecord(record, services, work), processor, {
      // Powertools throws when every record failed, which would retry even the ones that succeeded
      // elsewhere; reporting them as batch item failures is equivalent and keeps the contract simple.
      throwOnFullBatchFailure: false,
    });
    recordBatch(event, response, services);
    return response;
  };
}
