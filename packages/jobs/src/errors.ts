import { Schema } from "effect";

/** No job has this id (it never existed, or it was discarded or deleted by its retention). */
export class UnknownJob extends Schema.TaggedError<UnknownJob>()("UnknownJob", {
  id: Schema.String,
}) {}

/** Only a failed, cancelled or dead-lettered job can be retried; this one is `state`. */
export class JobNotRetryable extends Schema.TaggedError<JobNotRetryable>()("JobNotRetryable", {
  id: Schema.String,
  state: Schema.String,
}) {}

/** A job being worked on cannot be discarded; it ends, or expires and is retried, on its own. */
export class JobNotDiscardable extends Schema.TaggedError<JobNotDiscardable>()("JobNotDiscardable", {
  id: Schema.String,
  state: Schema.String,
}) {}

/** A payload that does not match its queue's schema (a bug in the sender: payloads come from the server's own code). */
export class JobPayloadInvalid extends Schema.TaggedError<JobPayloadInvalid>()("JobPayloadInvalid", {
  queue: Schema.String,
  message: Schema.String,
}) {}
