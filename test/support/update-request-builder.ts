import { randomUUID } from 'node:crypto';

/**
 * A `customer.update.requested` message value as it travels on the wire: a plain JSON object,
 * deliberately untyped beyond that, so that tests can build invalid values too.
 */
export type WireUpdateRequest = Record<string, unknown>;

/**
 * Builds wire values of `customer.update.requested` (SPEC §3). Defaults describe a valid
 * minimal update: a random eventId, now, tenant `tenant-a`, customer `customer-1`, and
 * `data: { taskType: 'collections' }`. Every `with…` returns the builder for chaining; `build`
 * returns a fresh deep copy, so one builder can produce several variations.
 *
 *   anUpdateRequest().withTenant('t1').withExternalId('c-1').withData({ firstName: 'Ann' }).build()
 */
export class UpdateRequestBuilder {
  #envelope: Record<string, unknown> = {
    eventId: randomUUID(),
    type: 'customer.update.requested',
    version: 1,
    occurredAt: new Date().toISOString(),
    tenantId: 'tenant-a',
    externalId: 'customer-1',
  };
  #data: Record<string, unknown> | undefined = { taskType: 'collections' };
  #dataReplacement: { value: unknown } | undefined;

  withEventId(eventId: string): this {
    return this.withEnvelopeField('eventId', eventId);
  }

  withTenant(tenantId: string): this {
    return this.withEnvelopeField('tenantId', tenantId);
  }

  withExternalId(externalId: string): this {
    return this.withEnvelopeField('externalId', externalId);
  }

  occurredAt(timestamp: string | Date): this {
    const text = typeof timestamp === 'string' ? timestamp : timestamp.toISOString();
    return this.withEnvelopeField('occurredAt', text);
  }

  withSource(source: string | null): this {
    return this.withEnvelopeField('source', source);
  }

  withVersion(version: unknown): this {
    return this.withEnvelopeField('version', version);
  }

  /** Sets any top-level field, known or not (for testing the envelope rules). */
  withEnvelopeField(name: string, value: unknown): this {
    this.#envelope[name] = value;
    return this;
  }

  withoutEnvelopeField(name: string): this {
    delete this.#envelope[name];
    if (name === 'data') this.#data = undefined;
    return this;
  }

  /** Merges fields into `data`; a field set to `null` is sent as null (SPEC §3: clear it). */
  withData(fields: Record<string, unknown>): this {
    this.#data = { ...(this.#data ?? {}), ...fields };
    this.#dataReplacement = undefined;
    return this;
  }

  /** Replaces `data` wholesale, e.g. with a non-object, to test the envelope rules. */
  withRawData(value: unknown): this {
    this.#dataReplacement = { value };
    return this;
  }

  withField(name: string, value: unknown): this {
    return this.withData({ [name]: value });
  }

  withoutField(name: string): this {
    if (this.#data) delete this.#data[name];
    return this;
  }

  withTaskType(taskType: unknown): this {
    return this.withField('taskType', taskType);
  }

  withPhone(phone: string | null): this {
    return this.withField('phone', phone);
  }

  withEmail(email: string | null): this {
    return this.withField('email', email);
  }

  withMetadata(metadata: unknown): this {
    return this.withField('metadata', metadata);
  }

  /** The Kafka key the message should carry (SPEC §2). */
  key(): string {
    return `${String(this.#envelope.tenantId)}:${String(this.#envelope.externalId)}`;
  }

  build(): WireUpdateRequest {
    const value: WireUpdateRequest = { ...this.#envelope };
    if (this.#dataReplacement) value.data = this.#dataReplacement.value;
    else if (this.#data) value.data = this.#data;
    return structuredClone(value);
  }

  /** The message value as a producer would send it. */
  buildBytes(): Buffer {
    return Buffer.from(JSON.stringify(this.build()), 'utf8');
  }
}

export function anUpdateRequest(): UpdateRequestBuilder {
  return new UpdateRequestBuilder();
}
