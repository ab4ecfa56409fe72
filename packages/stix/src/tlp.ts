import type { Tlp } from '@renkei/schema';

/**
 * The TLP marking definitions. TLP 2.0 ones are the canonical objects
 * published by OASIS (cti-stix-common-objects, objects/marking-definition and
 * extension-definition-specifications/tlp-2.0): fixed ids, created
 * 2022-10-01, the level in the TLP 2.0 property extension. TLP 1.0 ones are
 * the ids fixed by the STIX 2.1 specification (also in the official
 * marking-definition schema).
 */

export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

export const TLP2_MARKING_IDS: Readonly<Record<Tlp, string>> = {
  CLEAR: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  GREEN: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  AMBER: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'AMBER+STRICT': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  RED: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

/** TLP 1.0 had no AMBER+STRICT, and its WHITE is TLP 2.0's CLEAR. */
export const TLP1_MARKING_IDS: Readonly<Record<'CLEAR' | 'GREEN' | 'AMBER' | 'RED', string>> = {
  CLEAR: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  GREEN: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  AMBER: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  RED: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
};

const TLP_BY_CANONICAL_ID = new Map<string, Tlp>([
  ...Object.entries(TLP2_MARKING_IDS).map(([tlp, id]) => [id, tlp as Tlp] as const),
  ...Object.entries(TLP1_MARKING_IDS).map(([tlp, id]) => [id, tlp as Tlp] as const),
]);

/** The level of a canonical TLP 1.0 or 2.0 marking-definition id. */
export function tlpOfCanonicalMarking(id: string): Tlp | undefined {
  return TLP_BY_CANONICAL_ID.get(id);
}

/** `white`, `TLP:AMBER+STRICT`, `clear`… as written in marking definitions and tags. */
export function tlpFromLabel(label: string): Tlp | undefined {
  const plain = label.trim().toLowerCase().replace(/^tlp:/, '');
  switch (plain) {
    case 'white':
    case 'clear':
      return 'CLEAR';
    case 'green':
      return 'GREEN';
    case 'amber':
      return 'AMBER';
    case 'amber+strict':
      return 'AMBER+STRICT';
    case 'red':
      return 'RED';
    default:
      return undefined;
  }
}

export interface TlpMarkingDefinition {
  type: 'marking-definition';
  spec_version: '2.1';
  id: string;
  created: '2022-10-01T00:00:00.000Z';
  name: string;
  extensions: Record<string, { extension_type: 'property-extension'; tlp_2_0: string }>;
}

/** The canonical TLP 2.0 marking-definition object, property for property. */
export function tlpMarkingDefinition(tlp: Tlp): TlpMarkingDefinition {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: TLP2_MARKING_IDS[tlp],
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${tlp}`,
    extensions: {
      [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: tlp.toLowerCase() },
    },
  };
}
