import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertDetailSchema, alertPageSchema, type AlertPage, type Tlp } from '@renkei/schema';
import { eventually, startTestHub, TEST_ORGANISATIONS, type TestActors, type TestHub } from '@renkei/testing';

const TAXII = 'application/taxii+json;version=2.1';

/**
 * What a member receives from exports, TAXII and alert lists is computed
 * from its own view: another organisation's RED report joining an alert the
 * member sees, or RED-only alerts it cannot see, change nothing it gets —
 * not the bundle after `since`, not `Renkei-Next-Since`, not a TAXII
 * `date_added` or its headers, not a list cursor.
 */
describe('exports, TAXII and lists move only with the viewer’s own view', () => {
  const { gsoc, mlitCsirt, mhlwCsirt, acmeBank, waterCeptar } = TEST_ORGANISATIONS;

  const ACTORS = {
    analyst: { organisation: gsoc, roles: ['analyst'] },
    agency: { organisation: mlitCsirt, roles: ['reporter'] },
    otherAgency: { organisation: mhlwCsirt, roles: ['reporter'] },
    bank: { organisation: acmeBank, roles: ['reporter'] },
    water: { organisation: waterCeptar, roles: ['ceptar'] },
  } satisfies TestActors;
  type Actor = keyof typeof ACTORS;
  let hub: TestHub<Actor>;
  let ingestUrl: string;
  let gatewayUrl: string;
  let tokens: Record<Actor, string>;
  const run = randomBytes(3).toString('hex');
  const shared = `shared-${run}.views.example`;

  beforeAll(async () => {
    hub = await startTestHub({
      organisations: [gsoc, mlitCsirt, mhlwCsirt, acmeBank, waterCeptar],
      actors: ACTORS,
      env: { TAXII_CACHE_MS: '0' },
    });
    ({ ingestUrl, gatewayUrl, tokens } = hub);
  }, 120_000);

  afterAll(async () => {
    if (hub) expect(await hub.close()).toEqual(hub.services.map(() => 0));
  });

  // Reports two hours apart: within the correlation window, never a sector surge.
  let submitted = 0;
  const submit = async (actor: Actor, tlp: Tlp, domain: string) => {
    const response = await fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[actor]}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: `${actor} saw ${domain}`,
        category: 'targeted-attack',
        severity: 'medium',
        tlp,
        detectedAt: new Date(Date.UTC(2026, 10, 28) + 2 * 3_600_000 * submitted++).toISOString(),
        indicators: [{ type: 'domain', value: domain }],
      }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };

  /** Everything a response lets its reader observe but the time it was made. */
  const observed = async (response: Response) => ({
    status: response.status,
    headers: Object.fromEntries(
      [...response.headers].filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name)),
    ),
    body: await response.text(),
  });
  const get = (actor: Actor, path: string, accept?: string) =>
    fetch(`${gatewayUrl}${path}`, {
      headers: { authorization: `Bearer ${tokens[actor]}`, ...(accept ? { accept } : {}) },
    });
  const list = async (actor: Actor, query = ''): Promise<AlertPage> => {
    const response = await get(actor, `/v1/alerts${query}`);
    expect(response.status).toBe(200);
    return alertPageSchema.parse(await response.json());
  };
  const analystVersion = async (id: string) => {
    const response = await get('analyst', `/v1/alerts/${id}`);
    return response.status === 200 ? alertDetailSchema.parse(await response.json()).alert.version : 0;
  };
  const manifestOf = async (actor: Actor, query = '') => {
    const collections = (await (await get(actor, '/taxii2/renkei/collections/', TAXII)).json()) as {
      collections: { id: string; title: string }[];
    };
    const community = collections.collections.find((c) => c.title.startsWith('Renkei community'))!;
    return get(actor, `/taxii2/renkei/collections/${community.id}/manifest/?limit=1000${query}`, TAXII);
  };

  /** A bundle's objects but the markings and the hub's identity, which every export carries. */
  const itemsOf = (bundle: unknown) =>
    (bundle as { objects: { type: string; name?: string }[] }).objects.filter(
      (o) => o.type !== 'marking-definition' && !(o.type === 'identity' && o.name === 'Renkei'),
    );

  let alertId: string;
  /** When the member's view of the alert was added: the manifest's date for its grouping. */
  let added: string;
  let baseline: Record<string, Awaited<ReturnType<typeof observed>>>;
  let bookmark: string;
  /** The member's requests, observed before anything it may not know of happens. */
  const memberRequests = () => ({
    sinceAdded: `/v1/stix/bundle?since=${encodeURIComponent(added)}`,
    firstPage: '/v1/stix/bundle?limit=1',
    whole: '/v1/stix/bundle',
    list: '/v1/alerts',
    after: `/v1/alerts?after=${bookmark}`,
  });

  it('raises a GREEN alert the water body sees, and records everything it gets', async () => {
    await submit('water', 'GREEN', shared);
    await submit('bank', 'GREEN', shared);
    const page = await eventually(async () => {
      const found = await list('water');
      expect(found.items.filter((item) => item.indicators.some((i) => i.value === shared))).toHaveLength(1);
      return found;
    });
    alertId = page.items.find((item) => item.indicators.some((i) => i.value === shared))!.id;
    bookmark = page.nextAfter!;

    const manifest = (await (await manifestOf('water')).json()) as {
      objects: { id: string; date_added: string }[];
    };
    const grouping = manifest.objects.filter((o) => o.id.startsWith('grouping--'));
    expect(grouping).toHaveLength(1);
    added = grouping[0]!.date_added;

    baseline = {};
    for (const [name, path] of Object.entries(memberRequests()))
      baseline[name] = await observed(await get('water', path));
    baseline.manifest = await observed(await manifestOf('water'));
    baseline.manifestAfter = await observed(await manifestOf('water', `&added_after=${added}`));
    // Nothing of the water body's view came after its alert.
    expect(itemsOf(JSON.parse(baseline.sinceAdded!.body))).toEqual([]);
    expect(baseline.sinceAdded!.headers['renkei-next-since']).toBeUndefined();
  });

  it('changes nothing the member gets when another organisation’s RED report joins the alert', async () => {
    await submit('agency', 'RED', shared);
    await eventually(async () => expect(await analystVersion(alertId)).toBe(2), { timeoutMs: 30_000 });

    for (const [name, path] of Object.entries(memberRequests())) {
      expect(await observed(await get('water', path)), name).toEqual(baseline[name]);
    }
    expect(await observed(await manifestOf('water')), 'manifest').toEqual(baseline.manifest);
    expect(await observed(await manifestOf('water', `&added_after=${added}`)), 'manifest after').toEqual(
      baseline.manifestAfter,
    );
    // The analyst sees the join: the alert moved on for it.
    const forAnalyst = await get('analyst', `/v1/stix/bundle?since=${encodeURIComponent(added)}`);
    const objects = ((await forAnalyst.json()) as { objects: { id: string }[] }).objects;
    expect(objects.some((o) => o.id.startsWith('grouping--'))).toBe(true);
  });

  it('never names the time of an alert the member cannot see in Renkei-Next-Since, nor moves its list cursor', async () => {
    const justBefore = new Date(Date.now() - 1).toISOString();
    // Two alerts of RED reports only, of two other organisations: none of the water body's business.
    for (const n of [1, 2]) {
      const domain = `red-${n}-${run}.views.example`;
      await submit('agency', 'RED', domain);
      await submit('otherAgency', 'RED', domain);
    }
    await eventually(
      async () => {
        const page = await list('analyst');
        const red = page.items.filter((item) => item.indicators.some((i) => i.value.startsWith('red-')));
        expect(red).toHaveLength(2);
      },
      { timeoutMs: 30_000 },
    );

    const export_ = await get('water', `/v1/stix/bundle?since=${encodeURIComponent(justBefore)}&limit=1`);
    expect(export_.status).toBe(200);
    expect(itemsOf(await export_.json())).toEqual([]);
    expect(export_.headers.get('renkei-next-since')).toBeNull();
    // An analyst is told where to go on from.
    const forAnalyst = await get(
      'analyst',
      `/v1/stix/bundle?since=${encodeURIComponent(justBefore)}&limit=1`,
    );
    expect(forAnalyst.headers.get('renkei-next-since')).not.toBeNull();

    for (const [name, path] of Object.entries(memberRequests())) {
      expect(await observed(await get('water', path)), name).toEqual(baseline[name]);
    }
    expect((await list('water', `?after=${bookmark}`)).nextAfter).toBe(bookmark);
  });
});
