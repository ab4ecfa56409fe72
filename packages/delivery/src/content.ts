import { viewFeedEvent, type Viewer } from '@renkei/policy';
import {
  SEVERITIES,
  type AlertView,
  type DeliverySelection,
  type FeedEvent,
  type OrganisationKind,
  type Role,
  type Sector,
  type WarningView,
} from '@renkei/schema';

/** The organisation an endpoint delivers to, as the registry holds it. */
export interface RecipientOrganisation {
  id: string;
  sector: Sector;
  kind: OrganisationKind;
  enabled: boolean;
}

/** What one delivery carries: the event as the recipient organisation's stream shows it. */
export type DeliveryContent =
  | { type: 'warning'; subjectId: string; exercise: boolean; warning: WarningView }
  | { type: 'alert'; subjectId: string; exercise: boolean; alert: AlertView };

/**
 * The viewer an endpoint stands for: its organisation, with the role its
 * members hold (a CEPTAR's `ceptar`, the GSOC's `analyst`, anyone else's
 * `reporter`). The policy then decides the payload exactly as it decides
 * that organisation's stream; nobody gets more by asking for a webhook.
 */
export function deliveryViewer(organisation: RecipientOrganisation): Viewer {
  const roles: Role[] =
    organisation.kind === 'gsoc' ? ['analyst'] : organisation.kind === 'ceptar' ? ['ceptar'] : ['reporter'];
  return {
    subject: `delivery:${organisation.id}`,
    organisationId: organisation.id,
    sector: organisation.sector,
    roles,
  };
}

/**
 * What this endpoint is sent for a feed event, or null: nothing for a
 * disabled organisation, for an event its stream would not show it, for
 * kinds the endpoint did not ask for (only warnings and alerts travel this
 * way), for an alert below its severity (judged on the organisation's view)
 * and for exercise traffic it did not ask for.
 */
export function deliveryContent(
  selection: DeliverySelection,
  organisation: RecipientOrganisation,
  event: FeedEvent,
): DeliveryContent | null {
  if (!organisation.enabled) return null;
  const frame = viewFeedEvent(deliveryViewer(organisation), event, '');
  if (!frame) return null;
  if (frame.type === 'warning') {
    const { warning } = frame;
    if (!selection.warnings || (warning.exercise && !selection.exercise)) return null;
    return { type: 'warning', subjectId: warning.id, exercise: warning.exercise, warning };
  }
  if (frame.type === 'alert') {
    const { alert } = frame;
    const least = selection.alertsMinSeverity;
    if (least === null || SEVERITIES.indexOf(alert.severity) < SEVERITIES.indexOf(least)) return null;
    if (alert.exercise && !selection.exercise) return null;
    return { type: 'alert', subjectId: alert.id, exercise: alert.exercise, alert };
  }
  return null;
}

/**
 * The JSON body a webhook receives. Key order is fixed here, so every
 * attempt of one delivery sends the same bytes.
 */
export function webhookBody(deliveryId: string, endpointId: string, content: DeliveryContent): string {
  return content.type === 'warning'
    ? JSON.stringify({ deliveryId, endpointId, type: 'warning', warning: content.warning })
    : JSON.stringify({ deliveryId, endpointId, type: 'alert', alert: content.alert });
}

/** The body of a test message (`POST /v1/deliveries/:id/test`). */
export function testWebhookBody(deliveryId: string, endpointId: string, sentAt: string): string {
  return JSON.stringify({ deliveryId, endpointId, type: 'test', sentAt });
}
