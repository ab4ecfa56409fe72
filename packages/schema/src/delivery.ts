import { z } from 'zod';
import { alertViewSchema } from './alert.js';
import { organisationIdSchema, severitySchema } from './vocabulary.js';
import { warningViewSchema } from './warning.js';

/** The languages e-mail is written in; an organisation's is `organisations.language`. */
export const DELIVERY_LANGUAGES = ['ja', 'en'] as const;
export const deliveryLanguageSchema = z.enum(DELIVERY_LANGUAGES);
export type DeliveryLanguage = z.infer<typeof deliveryLanguageSchema>;

export const DELIVERY_CHANNELS = ['webhook', 'email'] as const;
export const deliveryChannelSchema = z.enum(DELIVERY_CHANNELS);
export type DeliveryChannel = z.infer<typeof deliveryChannelSchema>;

/** What an endpoint is sent: warnings, alerts from a severity up, and whether exercise traffic too. */
export const deliverySelectionSchema = z.strictObject({
  /** New warnings addressed to the organisation. */
  warnings: z.boolean().default(true),
  /** Alerts whose view (as the organisation sees it) is at least this severe; null: no alerts. */
  alertsMinSeverity: severitySchema.nullable().default(null),
  /** Exercise warnings and alerts as well as real ones. */
  exercise: z.boolean().default(false),
});
export type DeliverySelection = z.infer<typeof deliverySelectionSchema>;

const selection = deliverySelectionSchema.default({
  warnings: true,
  alertsMinSeverity: null,
  exercise: false,
});

/**
 * The body of `POST /v1/deliveries`. `organisationId` is for GSOC
 * administrators managing another organisation's endpoints; everyone else
 * manages their own organisation's and may leave it out.
 */
export const deliveryEndpointSubmissionSchema = z.discriminatedUnion('channel', [
  z.strictObject({
    channel: z.literal('webhook'),
    organisationId: organisationIdSchema.optional(),
    /** HTTPS only; checked against private and loopback addresses at creation and at every connection. */
    url: z.string().min(1).max(2048),
    send: selection,
  }),
  z.strictObject({
    channel: z.literal('email'),
    organisationId: organisationIdSchema.optional(),
    addresses: z.array(z.email().max(254)).min(1).max(50),
    send: selection,
  }),
]);
export type DeliveryEndpointSubmission = z.input<typeof deliveryEndpointSubmissionSchema>;

export const deliveryEndpointSchema = z.strictObject({
  id: z.uuid(),
  organisationId: organisationIdSchema,
  channel: deliveryChannelSchema,
  url: z.string().nullable(),
  addresses: z.array(z.string()).nullable(),
  send: deliverySelectionSchema,
  createdBy: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type DeliveryEndpoint = z.infer<typeof deliveryEndpointSchema>;

/** The answer to `POST /v1/deliveries`: the webhook's signing secret is shown here and never again. */
export const createdDeliveryEndpointSchema = deliveryEndpointSchema.extend({ secret: z.string().nullable() });

/**
 * What a webhook receives (JSON, signed): one event as the recipient
 * organisation's stream would show it. `deliveryId` is the same on every
 * attempt of one delivery, so a receiver drops repeats by it.
 */
export const webhookPayloadSchema = z.discriminatedUnion('type', [
  z.strictObject({
    deliveryId: z.uuid(),
    endpointId: z.uuid(),
    type: z.literal('warning'),
    warning: warningViewSchema,
  }),
  z.strictObject({
    deliveryId: z.uuid(),
    endpointId: z.uuid(),
    type: z.literal('alert'),
    alert: alertViewSchema,
  }),
  z.strictObject({
    deliveryId: z.uuid(),
    endpointId: z.uuid(),
    type: z.literal('test'),
    sentAt: z.iso.datetime({ offset: true }),
  }),
]);
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export const deliveryStateSchema = z.enum(DELIVERY_STATES);
export type DeliveryState = z.infer<typeof deliveryStateSchema>;

/** One attempt to deliver, as `GET /v1/deliveries/:id/log` lists it. */
export const deliveryAttemptSchema = z.strictObject({
  deliveryId: z.uuid(),
  type: z.enum(['warning', 'alert', 'test']),
  attempt: z.number().int().min(1),
  at: z.iso.datetime({ offset: true }),
  /** The HTTP status, or the SMTP reply code; null when no answer came (refused, timed out). */
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().int().min(0),
  ok: z.boolean(),
  error: z.string().nullable(),
});
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

/** One delivery (an event for one endpoint) and where it stands. */
export const deliveryStatusSchema = z.strictObject({
  deliveryId: z.uuid(),
  type: z.enum(['warning', 'alert', 'test']),
  state: deliveryStateSchema,
  attempts: z.number().int().min(0),
  createdAt: z.iso.datetime({ offset: true }),
  deliveredAt: z.iso.datetime({ offset: true }).nullable(),
  nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
});
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

/** A warning's reach for one organisation, for the GSOC. */
export const warningReceiptSchema = z.strictObject({
  organisationId: organisationIdSchema,
  /** The first successful delivery: when and by which channel; null while none succeeded. */
  delivered: z
    .strictObject({ at: z.iso.datetime({ offset: true }), channel: deliveryChannelSchema })
    .nullable(),
  /** A delivery is being retried, or gave up, and none has succeeded. */
  failing: z.boolean(),
  acknowledgedAt: z.iso.datetime({ offset: true }).nullable(),
});
export type WarningReceipt = z.infer<typeof warningReceiptSchema>;
