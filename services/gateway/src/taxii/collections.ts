import { REPORTING_ROLES, taxiiAudiencesFor, type ExportReader, type TaxiiAudience } from '@renkei/policy';
import { stixId } from '@renkei/stix/ids';
import { STIX_MEDIA_TYPE } from './paging.js';

export interface TaxiiCollection {
  id: string;
  title: string;
  description: string;
  audience: TaxiiAudience;
  canWrite: boolean;
}

/** A collection's id: a name-based UUID of its audience, the same on every gateway. */
export function collectionId(audience: TaxiiAudience): string {
  const name =
    audience.kind === 'sector'
      ? `sector:${audience.sector}`
      : audience.kind === 'organisation'
        ? `organisation:${audience.organisationId}`
        : audience.kind;
  return stixId('x-renkei-taxii-collection', name).split('--')[1]!;
}

function describe(audience: TaxiiAudience): { title: string; description: string } {
  switch (audience.kind) {
    case 'public':
      return {
        title: 'Renkei public (TLP:CLEAR)',
        description: 'CLEAR reports, without their authors, and CLEAR warnings for every sector.',
      };
    case 'community':
      return {
        title: 'Renkei community (TLP:CLEAR and TLP:GREEN)',
        description:
          'CLEAR and GREEN reports (other organisations anonymised) and the alerts you may see whose view is CLEAR or GREEN.',
      };
    case 'sector':
      return {
        title: `Renkei warnings: ${audience.sector}`,
        description: `Warnings the GSOC published for the ${audience.sector} sector.`,
      };
    case 'organisation':
      return {
        title: `Renkei reports of ${audience.organisationId}`,
        description:
          "Your own organisation's reports, every TLP. Adding objects here imports them as reports.",
      };
  }
}

/** The collections this reader may list, read and (its own organisation's, with a reporting role) add to. */
export function collectionsFor(
  reader: ExportReader,
  options: { publicWithoutToken: boolean },
): TaxiiCollection[] {
  return taxiiAudiencesFor(reader, options).map((audience) => ({
    id: collectionId(audience),
    ...describe(audience),
    audience,
    canWrite:
      audience.kind === 'organisation' &&
      reader !== null &&
      reader.roles.some((role) => REPORTING_ROLES.includes(role)),
  }));
}

/** The TAXII resource of a collection. */
export function collectionResource(collection: TaxiiCollection) {
  return {
    id: collection.id,
    title: collection.title,
    description: collection.description,
    can_read: true,
    can_write: collection.canWrite,
    media_types: [STIX_MEDIA_TYPE],
  };
}
