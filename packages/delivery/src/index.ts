export {
  isHostAllowed,
  judgeResolved,
  normaliseHost,
  parseWebhookUrl,
  refusedAddress,
  type AddressRefusal,
  type WebhookTarget,
} from './addresses.js';
export {
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  DELIVERY_ID_HEADER,
  EVENT_HEADER,
  newWebhookSecret,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
  type SignatureCheck,
} from './signing.js';
export { DEFAULT_RETRY_POLICY, nextAttemptAt, retryDelayMs, type RetryPolicy } from './retry.js';
export {
  deliveryContent,
  deliveryViewer,
  testWebhookBody,
  webhookBody,
  type DeliveryContent,
  type RecipientOrganisation,
} from './content.js';
export {
  emailDisclosure,
  escapeHtml,
  headerSafe,
  renderEmail,
  renderTestEmail,
  type EmailContext,
  type EmailDisclosure,
  type RenderedEmail,
} from './email.js';
