import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandFailure, runCommand } from '@renkei/cli';
import type { ImportAnswer, ReportStatusView, ReportSubmission, Tlp } from '@renkei/schema';
import { TLP2_MARKING_IDS, validateStixBundle, type StixBundle, type StixObject } from '@renkei/stix';
import { eventually, startTestHub, TEST_ORGANISATIONS, type TestHub } from '@renkei/testing';

const TAXII = 'application/taxii+json;version=2.1';
const LEVEL_OF = new Map(Object.entries(TLP2_MARKING_IDS).map(([tlp, id]) => [id, tlp as Tlp]));

/** The TLP levels an object carries. */
const levelsOf = (object: StixObject): Tlp[] =>
  object.type === 'marking-definition'
    ? [LEVEL_OF.get(object.id)!]
    : ((object.object_marking_refs as string[] | undefined) ?? []).map((id) => LEVEL_OF.get(id)!);

/**
 * STIX in and out and the TAXII server on real services: reports go in
 * through ingest, the correlator stores and correlates them, the gateway
 * exports what each reader may see, and what it exports imports again.
 */
describe('STIX, TAXII and MISP with the hub', () => {
  const { mlitCsirt, financeCeptar, gsoc, waterCeptar } = TEST_ORGANISATIONS;
  let hub: TestHub<'agency' | 'bank' | 'water' | 'analyst'>;
  let ingestUrl: string;
  /** The operator turned anonymous reads of the CLEAR collection on here… */
  let publicGateway: string;
  /** …and not here. */
  let privateGateway: string;
  let tokens: typeof hub.tokens;
  const ids = {} as Record<'green' | 'amber' | 'red' | 'clear', string>;

  beforeAll(async () => {
    hub = await startTestHub({
      organisations: [mlitCsirt, financeCeptar, gsoc, waterCeptar],
      actors: {
        agency: { organisation: mlitCsirt, roles: ['reporter'] },
        bank: { organisation: financeCeptar, roles: ['ceptar'] },
        water: { organisation: waterCeptar, roles: ['ceptar'] },
        analyst: { organisation: gsoc, roles: ['analyst'] },
      },
      // Pages here are built from two items of each kind at a time.
      gatewayEnv: { TAXII_PUBLIC_COLLECTION: 'true', TAXII_MAX_ITEMS: '2' },
      gatewayLabel: 'gateway-public',
      gatewayAfterIngest: true,
    });
    ({ ingestUrl, gatewayUrl: publicGateway, tokens } = hub);
    // Builds are not kept here, so every read sees what was just stored.
    privateGateway = (await hub.spawnGateway('gateway-private', { TAXII_CACHE_MS: '0' })).url!;

    const submit = async (token: string, report: Partial<ReportSubmission>) => {
      const body: ReportSubmission = {
        title: 'Untitled',
        category: 'phishing',
        severity: 'high',
        tlp: 'GREEN',
        detectedAt: '2026-11-28T09:00:00+09:00',
        indicators: [],
        ...report,
      };
      let answer: Response | undefined;
      await eventually(async () => {
        answer = await fetch(`${ingestUrl}/v1/reports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(answer.status).toBe(202);
      });
      return ((await answer!.json()) as { id: string }).id;
    };
    ids.green = await submit(tokens.agency, {
      title: 'GREEN phishing wave',
      tlp: 'GREEN',
      indicators: [
        { type: 'domain', value: 'Shared-Login[.]example' },
        { type: 'url', value: 'hxxps://shared-login.example/portal?x=1' },
        { type: 'ipv4', value: '198.51.100.23' },
        { type: 'sha256', value: 'E'.repeat(64) },
        { type: 'email', value: 'Boss@Shared-Login.example' },
        { type: 'cve', value: 'cve-2024-3400' },
      ],
    });
    ids.amber = await submit(tokens.bank, {
      title: 'AMBER bank intrusion',
      tlp: 'AMBER',
      indicators: [
        { type: 'domain', value: 'shared-login.example' },
        { type: 'domain', value: 'amber-only.example' },
      ],
    });
    ids.red = await submit(tokens.bank, {
      title: 'RED internal matter',
      tlp: 'RED',
      indicators: [{ type: 'domain', value: 'red-only.example' }],
    });
    ids.clear = await submit(tokens.agency, {
      title: 'CLEAR public advisory',
      tlp: 'CLEAR',
      indicators: [{ type: 'domain', value: 'clear-only.example' }],
    });
    for (const [id, token] of [
      [ids.green, tokens.agency],
      [ids.amber, tokens.bank],
      [ids.red, tokens.bank],
      [ids.clear, tokens.agency],
    ] as const) {
      await eventually(
        async () => {
          const status = await fetch(`${ingestUrl}/v1/reports/${id}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          expect(((await status.json()) as ReportStatusView).status).toBe('processed');
        },
        { timeoutMs: 30_000 },
      );
    }
    for (const warning of [
      { title: 'Water sector warning', tlp: 'GREEN', sectors: ['water'] },
      { title: 'Public warning', tlp: 'CLEAR', sectors: 'all' },
      { title: 'Finance AMBER warning', tlp: 'AMBER', sectors: ['finance'] },
    ]) {
      const published = await fetch(`${privateGateway}/v1/warnings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
        body: JSON.stringify({ body: 'Details.', severity: 'high', ...warning }),
      });
      expect(published.status, await published.clone().text()).toBe(201);
    }
    // The shared-indicator alert (GREEN and AMBER reports of shared-login.example) is stored.
    await eventually(
      async () => {
        const alerts = await fetch(`${privateGateway}/v1/alerts`, {
          headers: { authorization: `Bearer ${tokens.analyst}` },
        });
        expect(((await alerts.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
      },
      { timeoutMs: 30_000 },
    );
  }, 180_000);

  afterAll(async () => {
    if (hub) expect(await hub.close()).toEqual(hub.services.map(() => 0));
  });

  const exportFor = async (token: string, query = '') => {
    const response = await fetch(`${privateGateway}/v1/stix/bundle${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/stix\+json;\s*version=2\.1/);
    return { text: await response.clone().text(), bundle: (await response.json()) as StixBundle };
  };

  describe('STIX export', () => {
    it('gives an analyst every report, alert and warning, valid against the official schemas, the same bytes each time', async () => {
      const first = await exportFor(tokens.analyst);
      const second = await exportFor(tokens.analyst);
      expect(second.text).toBe(first.text);
      expect(validateStixBundle(first.bundle)).toEqual({ valid: true });
      const types = new Set(first.bundle.objects.map((o) => o.type));
      for (const type of [
        'identity',
        'indicator',
        'sighting',
        'grouping',
        'report',
        'marking-definition',
        'vulnerability',
      ]) {
        expect(types, type).toContain(type);
      }
      const names = first.bundle.objects.map((o) => o.name);
      expect(names).toEqual(expect.arrayContaining(['RED internal matter', 'Finance AMBER warning']));
      // Analysts see organisations named.
      expect(names).toContain('finance-ceptar (test)');
    });

    it("gives another member only what TLP lets it see: its own, others' CLEAR and GREEN anonymised, no AMBER or RED", async () => {
      const { bundle } = await exportFor(tokens.water);
      expect(validateStixBundle(bundle)).toEqual({ valid: true });
      const text = JSON.stringify(bundle);
      expect(text).not.toContain('amber-only.example');
      expect(text).not.toContain('red-only.example');
      expect(text).not.toContain('RED internal matter');
      expect(text).not.toContain('Finance AMBER warning');
      expect(text).not.toContain('mlit-csirt');
      expect(text).toContain('GREEN phishing wave');
      expect(text).toContain('Water sector warning');
      expect(
        bundle.objects.flatMap(levelsOf).filter((l) => l === 'AMBER' || l === 'RED' || l === 'AMBER+STRICT'),
      ).toEqual([]);
      const identities = bundle.objects.filter((o) => o.type === 'identity').map((o) => o.name);
      expect(identities).toContain('An organisation of the central-government sector');
    });

    it('continues a truncated export from Renkei-Next-Since', async () => {
      const response = await fetch(`${privateGateway}/v1/stix/bundle?limit=1`, {
        headers: { authorization: `Bearer ${tokens.agency}` },
      });
      const next = response.headers.get('renkei-next-since');
      expect(next).not.toBeNull();
      const rest = await exportFor(tokens.agency, `?since=${encodeURIComponent(next!)}`);
      expect(JSON.stringify(rest.bundle)).toContain('CLEAR public advisory');
    });

    it('round trip: a report exported and imported again has the same canonical indicators and TLP', async () => {
      const { bundle } = await exportFor(tokens.agency);
      const imported = await fetch(`${ingestUrl}/v1/stix/bundles`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokens.agency}`,
          'content-type': 'application/stix+json;version=2.1',
        },
        body: JSON.stringify(bundle),
      });
      expect(imported.status, await imported.clone().text()).toBe(202);
      const answer = (await imported.json()) as ImportAnswer;
      const original = await readReport(ids.green, tokens.agency);
      const sourceId = bundle.objects.find(
        (o) => o.type === 'report' && o.name === 'GREEN phishing wave',
      )!.id;
      const again = answer.reports.find((r) => r.source.id === sourceId)!;
      expect(again).toMatchObject({ status: 'accepted', tlp: 'GREEN' });
      const copy = await eventually(
        async () => {
          const view = await readReport(again.id!, tokens.agency);
          expect(view.status).toBe('processed');
          return view;
        },
        { timeoutMs: 30_000 },
      );
      expect(copy.report.tlp).toBe(original.report.tlp);
      expect(canonicalSet(copy)).toEqual(canonicalSet(original));
      expect(copy.report.category).toBe(original.report.category);
      expect(copy.report.severity).toBe(original.report.severity);
    });
  });

  const readReport = async (id: string, token: string) => {
    const response = await fetch(`${ingestUrl}/v1/reports/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return (await response.json()) as ReportStatusView;
  };
  const canonicalSet = (view: ReportStatusView) =>
    view.indicators
      .filter((i) => !i.derived && i.canonical)
      .map((i) => `${i.canonical!.type}:${i.canonical!.value}`)
      .sort();

  describe('TAXII 2.1', () => {
    const taxii = (base: string, path: string, token?: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        headers: { accept: TAXII, ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      });
    const json = async <T>(response: Response): Promise<T> => {
      expect(response.status, await response.clone().text()).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/taxii\+json;\s*version=2\.1/);
      return (await response.json()) as T;
    };
    interface Collection {
      id: string;
      title: string;
      can_read: boolean;
      can_write: boolean;
      media_types: string[];
    }
    interface Envelope {
      more: boolean;
      next?: string;
      objects: StixObject[];
    }

    it('walks discovery, API root, collections and a collection paged by next and added_after, as a GREEN-only reader', async () => {
      const discovery = await json<{ api_roots: string[]; default: string }>(
        await taxii(privateGateway, '/taxii2/', tokens.water),
      );
      const root = discovery.default;
      expect(discovery.api_roots).toEqual([root]);
      const apiRoot = await json<{ versions: string[]; max_content_length: number }>(
        await taxii(privateGateway, root, tokens.water),
      );
      expect(apiRoot.versions).toEqual([TAXII]);
      const { collections } = await json<{ collections: Collection[] }>(
        await taxii(privateGateway, `${root}collections/`, tokens.water),
      );
      expect(collections.map((c) => c.title)).toEqual([
        'Renkei public (TLP:CLEAR)',
        'Renkei community (TLP:CLEAR and TLP:GREEN)',
        'Renkei warnings: water',
        'Renkei reports of water-ceptar',
      ]);
      const community = collections[1]!;
      expect(community).toMatchObject({ can_read: true, can_write: false });
      expect(
        await json<Collection>(
          await taxii(privateGateway, `${root}collections/${community.id}/`, tokens.water),
        ),
      ).toEqual(community);

      // Paged two at a time by next.
      const objectsPath = `${root}collections/${community.id}/objects/`;
      const paged: StixObject[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const response = await taxii(
          privateGateway,
          `${objectsPath}?limit=2${next ? `&next=${encodeURIComponent(next)}` : ''}`,
          tokens.water,
        );
        expect(response.headers.get('x-taxii-date-added-first')).not.toBeNull();
        const page = await json<Envelope>(response);
        expect(page.objects.length).toBeLessThanOrEqual(2);
        paged.push(...page.objects);
        next = page.more ? page.next : undefined;
        pages += 1;
      } while (next && pages < 500);
      const whole = await json<Envelope>(
        await taxii(privateGateway, `${objectsPath}?limit=1000`, tokens.water),
      );
      expect(whole.more).toBe(false);
      expect(paged.map((o) => o.id)).toEqual(whole.objects.map((o) => o.id));
      expect(new Set(paged.map((o) => o.id)).size).toBe(paged.length);
      expect(pages).toBeGreaterThan(3);
      // A GREEN-only reader never receives AMBER or RED objects.
      expect(paged.flatMap(levelsOf).every((level) => level === 'CLEAR' || level === 'GREEN')).toBe(true);
      const text = JSON.stringify(paged);
      expect(text).not.toContain('amber-only.example');
      expect(text).not.toContain('red-only.example');
      expect(text).toContain('shared-login.example');
      expect(
        validateStixBundle({
          type: 'bundle',
          id: 'bundle--00000000-0000-4000-8000-000000000001',
          objects: paged,
        }),
      ).toEqual({ valid: true });

      // added_after: only what was added later, by the manifest's dates.
      const manifest = await json<{
        objects: { id: string; date_added: string; version: string; media_type: string }[];
      }>(
        await taxii(privateGateway, `${root}collections/${community.id}/manifest/?limit=1000`, tokens.water),
      );
      expect(manifest.objects.map((m) => m.id)).toEqual(whole.objects.map((o) => o.id));
      const dates = [...new Set(manifest.objects.map((m) => m.date_added))].sort();
      expect(dates.length).toBeGreaterThan(1);
      const after = dates[0]!;
      const later = await json<Envelope>(
        await taxii(
          privateGateway,
          `${objectsPath}?added_after=${encodeURIComponent(after)}&limit=1000`,
          tokens.water,
        ),
      );
      const expected = manifest.objects.filter((m) => m.date_added > after).map((m) => m.id);
      expect(later.objects.map((o) => o.id)).toEqual(expected);

      // match[type], match[id], match[version], object by id and its versions.
      const indicators = await json<Envelope>(
        await taxii(privateGateway, `${objectsPath}?match[type]=indicator&limit=1000`, tokens.water),
      );
      expect(indicators.objects.length).toBeGreaterThan(0);
      expect(indicators.objects.every((o) => o.type === 'indicator')).toBe(true);
      const one = indicators.objects[0]!;
      const byMatch = await json<Envelope>(
        await taxii(privateGateway, `${objectsPath}?match[id]=${one.id}&match[version]=last`, tokens.water),
      );
      expect(byMatch.objects).toEqual([one]);
      const byVersion = await json<Envelope>(
        await taxii(
          privateGateway,
          `${objectsPath}?match[id]=${one.id}&match[version]=${encodeURIComponent(String(one.modified))}`,
          tokens.water,
        ),
      );
      expect(byVersion.objects).toEqual([one]);
      const wrongVersion = await json<Envelope>(
        await taxii(
          privateGateway,
          `${objectsPath}?match[id]=${one.id}&match[version]=2001-01-01T00:00:00.000Z`,
          tokens.water,
        ),
      );
      expect(wrongVersion.objects).toEqual([]);
      const byId = await json<Envelope>(
        await taxii(privateGateway, `${objectsPath}${one.id}/`, tokens.water),
      );
      expect(byId.objects).toEqual([one]);
      const versions = await json<{ versions: string[] }>(
        await taxii(privateGateway, `${objectsPath}${one.id}/versions/`, tokens.water),
      );
      expect(versions.versions).toEqual([one.modified]);

      // The sector collection holds the water sector's warnings only; the organisation's, its own reports.
      const sector = await json<Envelope>(
        await taxii(
          privateGateway,
          `${root}collections/${collections[2]!.id}/objects/?limit=1000`,
          tokens.water,
        ),
      );
      const sectorText = JSON.stringify(sector.objects);
      expect(sectorText).toContain('Water sector warning');
      expect(sectorText).toContain('Public warning');
      expect(sectorText).not.toContain('Finance AMBER warning');
      expect(sectorText).not.toContain('GREEN phishing wave');
      const own = await json<Envelope>(
        await taxii(
          privateGateway,
          `${root}collections/${collections[3]!.id}/objects/?limit=1000`,
          tokens.water,
        ),
      );
      expect(own.objects).toEqual([]);

      // An AMBER object's id is not found in the GREEN collection, and other organisations' collections do not exist for it.
      const { bundle: analystView } = await exportFor(tokens.analyst);
      const amber = analystView.objects.find(
        (o) => o.type === 'indicator' && o.name === 'amber-only.example',
      )!;
      expect((await taxii(privateGateway, `${objectsPath}${amber.id}/`, tokens.water)).status).toBe(404);
    });

    it('pages on past the items one build reads, to the same objects', async () => {
      const { collections } = await json<{ collections: Collection[] }>(
        await taxii(privateGateway, '/taxii2/renkei/collections/', tokens.agency),
      );
      const objectsPath = `/taxii2/renkei/collections/${collections[1]!.id}/objects/`;
      // More reports than one build reads (two), whatever ran before.
      const groupings = [1, 2, 3].map((n) => ({
        type: 'grouping',
        spec_version: '2.1',
        id: `grouping--00000000-0000-4000-8000-0000000d000${n}`,
        created: '2026-11-20T00:00:00.000Z',
        modified: '2026-11-20T00:00:00.000Z',
        name: `Paged grouping ${n}`,
        context: 'suspicious-activity',
        object_refs: [`indicator--00000000-0000-4000-8000-0000000d100${n}`],
        object_marking_refs: [TLP2_MARKING_IDS.GREEN],
      }));
      const indicators = [1, 2, 3].map((n) => ({
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--00000000-0000-4000-8000-0000000d100${n}`,
        created: '2026-11-20T00:00:00.000Z',
        modified: '2026-11-20T00:00:00.000Z',
        pattern: `[domain-name:value = 'paged-${n}.example']`,
        pattern_type: 'stix',
        valid_from: '2026-11-20T00:00:00.000Z',
      }));
      const imported = await fetch(`${ingestUrl}/v1/stix/bundles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.agency}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'bundle',
          id: 'bundle--00000000-0000-4000-8000-0000000d0000',
          objects: [...groupings, ...indicators],
        }),
      });
      expect(imported.status).toBe(202);
      const whole = await eventually(
        async () => {
          const all = await json<Envelope>(
            await taxii(privateGateway, `${objectsPath}?limit=1000`, tokens.agency),
          );
          expect(all.objects.filter((o) => String(o.name).startsWith('Paged grouping'))).toHaveLength(3);
          return all;
        },
        { timeoutMs: 30_000 },
      );
      const seen = new Map<string, StixObject>();
      let next: string | undefined;
      let pages = 0;
      do {
        const page = await json<Envelope>(
          await taxii(
            publicGateway,
            `${objectsPath}?limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`,
            tokens.agency,
          ),
        );
        for (const object of page.objects) seen.set(object.id, object);
        next = page.more ? page.next : undefined;
        pages += 1;
      } while (next && pages < 100);
      expect(pages).toBeGreaterThan(1);
      expect([...seen.keys()].sort()).toEqual(whole.objects.map((o) => o.id).sort());
    });

    it('checks media types: a wrong Accept is a 406, and a bad next a 400', async () => {
      const html = await taxii(privateGateway, '/taxii2/', tokens.water, { accept: 'text/html' });
      expect(html.status).toBe(406);
      // A TAXII error resource, the hub's code in error_code.
      expect(html.headers.get('content-type')).toBe(TAXII);
      expect(((await html.json()) as { error_code: string }).error_code).toBe('RENKEI_NOT_ACCEPTABLE');
      const versionless = await taxii(privateGateway, '/taxii2/', tokens.water, {
        accept: 'application/taxii+json',
      });
      expect(versionless.status).toBe(200);
      const { collections } = await json<{ collections: Collection[] }>(
        await taxii(privateGateway, '/taxii2/renkei/collections/', tokens.water),
      );
      const badNext = await taxii(
        privateGateway,
        `/taxii2/renkei/collections/${collections[1]!.id}/objects/?next=nope`,
        tokens.water,
      );
      expect(badNext.status).toBe(400);
    });

    it('accepts tokens as TAXII clients send them: Bearer, Token, and Basic with the token as password', async () => {
      const basic = Buffer.from(`water-ceptar:${tokens.water}`).toString('base64');
      for (const authorization of [`Token ${tokens.water}`, `Basic ${basic}`]) {
        const response = await taxii(privateGateway, '/taxii2/renkei/collections/', undefined, {
          authorization,
        });
        expect((await json<{ collections: Collection[] }>(response)).collections).toHaveLength(4);
      }
      const wrong = await taxii(privateGateway, '/taxii2/', undefined, {
        authorization: 'Basic bm9wYXNzd29yZA==',
      });
      expect(wrong.status).toBe(401);
    });

    it('gives an anonymous reader only what the operator made public, and nothing where it did not', async () => {
      expect((await taxii(privateGateway, '/taxii2/')).status).toBe(401);
      expect((await taxii(privateGateway, '/taxii2/renkei/collections/')).status).toBe(401);

      const { collections } = await json<{ collections: Collection[] }>(
        await taxii(publicGateway, '/taxii2/renkei/collections/'),
      );
      expect(collections.map((c) => c.title)).toEqual(['Renkei public (TLP:CLEAR)']);
      // This gateway builds pages from two items of each kind: follow `next` to the end.
      const objects: Envelope = { more: false, objects: [] };
      let next: string | undefined;
      do {
        const page = await json<Envelope>(
          await taxii(
            publicGateway,
            `/taxii2/renkei/collections/${collections[0]!.id}/objects/?limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`,
          ),
        );
        objects.objects.push(
          ...page.objects.filter((o) => !objects.objects.some((seen) => seen.id === o.id)),
        );
        next = page.more ? page.next : undefined;
      } while (next);
      expect(objects.objects.flatMap(levelsOf).every((level) => level === 'CLEAR')).toBe(true);
      const text = JSON.stringify(objects.objects);
      expect(text).toContain('clear-only.example');
      expect(text).toContain('Public warning');
      expect(text).not.toContain('shared-login.example');
      expect(text).not.toContain('mlit-csirt');
      expect(objects.objects.filter((o) => o.type === 'identity').map((o) => o.name)).toEqual(['Renkei']);

      // The community collection is not there for anonymous readers.
      const { collections: mine } = await json<{ collections: Collection[] }>(
        await taxii(publicGateway, '/taxii2/renkei/collections/', tokens.water),
      );
      expect((await taxii(publicGateway, `/taxii2/renkei/collections/${mine[1]!.id}/objects/`)).status).toBe(
        404,
      );
    });

    it("adds to the reader's own collection through ingest's import, with a status, and stores it once", async () => {
      const { collections } = await json<{ collections: Collection[] }>(
        await taxii(privateGateway, '/taxii2/renkei/collections/', tokens.agency),
      );
      const own = collections.find((c) => c.can_write)!;
      expect(own.title).toBe('Renkei reports of mlit-csirt');
      const envelope = {
        objects: [
          {
            type: 'indicator',
            spec_version: '2.1',
            id: 'indicator--00000000-0000-4000-8000-00000000abcd',
            created: '2026-11-20T00:00:00.000Z',
            modified: '2026-11-20T00:00:00.000Z',
            pattern: "[domain-name:value = 'taxii-added.example']",
            pattern_type: 'stix',
            valid_from: '2026-11-20T00:00:00.000Z',
            object_marking_refs: [TLP2_MARKING_IDS.AMBER],
          },
          {
            type: 'indicator',
            spec_version: '2.1',
            id: 'indicator--00000000-0000-4000-8000-00000000abce',
            created: '2026-11-20T00:00:00.000Z',
            modified: '2026-11-20T00:00:00.000Z',
            pattern: "[file:name = 'x.exe']",
            pattern_type: 'stix',
            valid_from: '2026-11-20T00:00:00.000Z',
            object_marking_refs: [TLP2_MARKING_IDS.AMBER],
          },
        ],
      };
      const add = () =>
        fetch(`${privateGateway}/taxii2/renkei/collections/${own.id}/objects/`, {
          method: 'POST',
          headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${tokens.agency}` },
          body: JSON.stringify(envelope),
        });
      const response = await add();
      expect(response.status, await response.clone().text()).toBe(202);
      const status = (await response.json()) as {
        id: string;
        status: string;
        success_count: number;
        failure_count: number;
        failures: { id: string; message: string }[];
      };
      expect(status).toMatchObject({ status: 'complete', success_count: 1, failure_count: 1 });
      expect(status.failures[0]!.message).toMatch(/^unsupported-pattern/);
      const again = await json<typeof status>(
        await taxii(privateGateway, `/taxii2/renkei/status/${status.id}/`, tokens.agency),
      );
      expect(again).toEqual(status);
      // Behind a load balancer the client may ask another gateway.
      const elsewhere = await json<typeof status>(
        await taxii(publicGateway, `/taxii2/renkei/status/${status.id}/`, tokens.agency),
      );
      expect(elsewhere).toEqual(status);
      expect((await taxii(privateGateway, `/taxii2/renkei/status/${status.id}/`, tokens.bank)).status).toBe(
        404,
      );
      expect((await taxii(privateGateway, '/taxii2/renkei/status/not-a-uuid/', tokens.agency)).status).toBe(
        404,
      );

      // The retry stores nothing twice: ingest answers it as already accepted.
      const retried = (await (await add()).json()) as { success_count: number };
      expect(retried.success_count).toBe(1);
      const direct = await fetch(`${ingestUrl}/v1/stix/bundles`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.agency}`, 'content-type': 'application/json' },
        body: JSON.stringify(envelope),
      });
      expect(((await direct.json()) as ImportAnswer).reports[0]!.status).toBe('already-accepted');

      const community = collections.find((c) => c.title.startsWith('Renkei community'))!;
      const refused = await fetch(`${privateGateway}/taxii2/renkei/collections/${community.id}/objects/`, {
        method: 'POST',
        headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${tokens.agency}` },
        body: JSON.stringify(envelope),
      });
      expect(refused.status).toBe(403);
    });

    // Issue 16: a bundle without a valid id was a 500 on ingest, so the add answered 503 "retry" for ever.
    it('answers a malformed add with a complete status in which every object failed, with the reason', async () => {
      const { collections } = await json<{ collections: Collection[] }>(
        await taxii(privateGateway, '/taxii2/renkei/collections/', tokens.agency),
      );
      const own = collections.find((c) => c.can_write)!;
      const object = (n: number, marked: boolean) => ({
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--00000000-0000-4000-8000-0000000bad0${n}`,
        created: '2026-11-20T00:00:00.000Z',
        modified: '2026-11-20T00:00:00.000Z',
        pattern: `[domain-name:value = 'malformed-${n}.example']`,
        pattern_type: 'stix',
        valid_from: '2026-11-20T00:00:00.000Z',
        ...(marked ? { object_marking_refs: [TLP2_MARKING_IDS.GREEN] } : {}),
      });
      const add = (body: unknown) =>
        fetch(`${privateGateway}/taxii2/renkei/collections/${own.id}/objects/`, {
          method: 'POST',
          headers: { accept: TAXII, 'content-type': TAXII, authorization: `Bearer ${tokens.agency}` },
          body: JSON.stringify(body),
        });
      type Status = {
        id: string;
        status: string;
        success_count: number;
        failure_count: number;
        failures: { id: string; message: string }[];
      };

      const noId = await add({ type: 'bundle', objects: [object(1, true), 'not an object'] });
      expect(noId.status, await noId.clone().text()).toBe(202);
      const status = (await noId.json()) as Status;
      expect(status).toMatchObject({ status: 'complete', success_count: 0, failure_count: 2 });
      expect(status.failures).toEqual([
        { id: object(1, true).id, message: expect.stringMatching(/^id: .*bundle--/) },
        { id: 'objects[1]', message: expect.stringMatching(/^id: /) },
      ]);
      expect(
        await json<Status>(await taxii(privateGateway, `/taxii2/renkei/status/${status.id}/`, tokens.agency)),
      ).toEqual(status);

      const badId = (await (
        await add({ type: 'bundle', id: 'bundle--nope', objects: [object(2, true)] })
      ).json()) as Status;
      expect(badId).toMatchObject({ success_count: 0, failure_count: 1 });

      const unmarked = (await (await add({ objects: [object(3, false)] })).json()) as Status;
      expect(unmarked.failures).toEqual([
        { id: object(3, false).id, message: expect.stringMatching(/^object_marking_refs: /) },
      ]);
    });
  });

  describe('CLI', () => {
    it('imports a STIX bundle and a MISP event from files and exports what the token may see', async () => {
      const folder = await mkdtemp(path.join(tmpdir(), 'renkei-cli-'));
      try {
        const bundleFile = path.join(folder, 'bundle.json');
        await writeFile(
          bundleFile,
          JSON.stringify({
            type: 'bundle',
            id: 'bundle--00000000-0000-4000-8000-0000000c1100',
            objects: [
              {
                type: 'indicator',
                spec_version: '2.1',
                id: 'indicator--00000000-0000-4000-8000-0000000c1101',
                created: '2026-11-20T00:00:00.000Z',
                modified: '2026-11-20T00:00:00.000Z',
                pattern: "[url:value = 'https://cli-import.example/x'] OR [file:name = 'a.exe']",
                pattern_type: 'stix',
                valid_from: '2026-11-20T00:00:00.000Z',
                object_marking_refs: [TLP2_MARKING_IDS.GREEN],
              },
            ],
          }),
        );
        const mispFile = path.join(folder, 'event.json');
        await writeFile(
          mispFile,
          JSON.stringify({
            Event: {
              uuid: '00000000-0000-4000-8000-0000000c1200',
              info: 'CLI MISP event',
              date: '2026-11-20',
              timestamp: '1795000000',
              Tag: [{ name: 'tlp:green' }],
              Attribute: [
                { type: 'ip-dst', value: '198.51.100.77' },
                { type: 'mutex', value: 'Global\\evil' },
              ],
            },
          }),
        );
        const env = {
          RENKEI_INGEST_URL: ingestUrl,
          RENKEI_GATEWAY_URL: privateGateway,
          RENKEI_TOKEN: tokens.agency,
        };
        const stixOut = await runCommand(['import', 'stix', bundleFile], env);
        expect(stixOut).toMatch(
          /^bundle bundle--00000000-0000-4000-8000-0000000c1100: report \S+ accepted \(TLP:GREEN, 1 indicators\)/,
        );
        expect(stixOut).toContain('1 objects: 1 mapped, 0 context, 0 not mapped');
        const mispOut = await runCommand(['import', 'misp', mispFile, '--json'], env);
        const answer = JSON.parse(mispOut) as ImportAnswer;
        expect(answer.reports[0]).toMatchObject({ status: 'accepted', tlp: 'GREEN', indicators: 1 });
        expect(answer.items[1]!.reason!.code).toBe('unsupported-type');

        await writeFile(
          bundleFile,
          JSON.stringify({ type: 'bundle', id: 'bundle--00000000-0000-4000-8000-0000000c1300', objects: [] }),
        );
        await expect(runCommand(['import', 'stix', bundleFile], env)).rejects.toBeInstanceOf(CommandFailure);

        const exported = JSON.parse(
          await runCommand(['export', 'stix', '--since', '2000-01-01T00:00:00Z'], env),
        ) as StixBundle;
        expect(validateStixBundle(exported)).toEqual({ valid: true });
        expect(JSON.stringify(exported)).toContain('GREEN phishing wave');
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    });
  });
});
