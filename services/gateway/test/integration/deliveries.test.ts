import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '@renkei/delivery';
import { createLogger } from '@renkei/runtime';
import { webhookPayloadSchema, type WarningSubmission } from '@renkei/schema';
import {
  createTestCertificate,
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  randomTopicPrefix,
  registerOrganisations,
  startWebhookReceiver,
  TEST_ORGANISATIONS,
  type TestCertificate,
  type TestDatabase,
  type TestKeys,
  type WebhookReceiver,
  sharedKafkaEnv,
} from '@renkei/testing';
import { loadGatewayConfig, startGateway, type RunningGateway } from '../../src/index.js';
import { postWebhook } from '../../src/delivery/webhook.js';

/**
 * Webhook and e-mail delivery through a real gateway (PostgreSQL, Kafka),
 * to an HTTPS receiver and an SMTP server started here.
 */
describe('deliveries', () => {
  const logger = createLogger('deliveries-test', 'silent');
  const telecomCeptar = { id: 'telecom-ceptar', sector: 'telecom', kind: 'ceptar' } as const;
  let database: TestDatabase;
  let keys: TestKeys;
  let certificate: TestCertificate;
  let receiver: WebhookReceiver;
  let smtp: SMTPServer;
  const mail: ParsedMail[] = [];
  let gateway: RunningGateway;
  let env: Record<string, string>;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    await registerOrganisations(database, [
      TEST_ORGANISATIONS.gsoc,
      TEST_ORGANISATIONS.financeCeptar,
      TEST_ORGANISATIONS.acmeBank,
      TEST_ORGANISATIONS.waterCeptar,
      telecomCeptar,
    ]);
    await database.pool.query(`UPDATE organisations SET language = 'en' WHERE id = 'water-ceptar'`);
    certificate = createTestCertificate();
    receiver = await startWebhookReceiver(certificate);
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (parsed) => {
            mail.push(parsed);
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as AddressInfo).port;
    env = {
      DATABASE_URL: database.url,
      ...(await sharedKafkaEnv(randomTopicPrefix())),
      AUTH_JWKS_FILE: keys.jwksFile,
      GATEWAY_PORT: '0',
      METRICS_PORT: '0',
      GATEWAY_FEED_POLL_MS: '200',
      DELIVERY_ALLOWED_HOSTS: 'localhost',
      DELIVERY_CA_FILE: certificate.certFile,
      DELIVERY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      DELIVERY_SMTP_FROM: 'Renkei <renkei@hub.test>',
      DELIVERY_POLL_MS: '50',
      DELIVERY_RETRY_BASE_MS: '50',
      DELIVERY_RETRY_CAP_MS: '200',
      DELIVERY_TIMEOUT_MS: '8000',
    };
    gateway = await startGateway(loadGatewayConfig(env), logger);
    tokens.analyst = await keys.token({
      org: 'gsoc',
      sector: 'central-government',
      roles: ['analyst'],
      sub: 'ana',
    });
    tokens.admin = await keys.token({
      org: 'gsoc',
      sector: 'central-government',
      roles: ['admin'],
      sub: 'adm',
    });
    tokens.finance = await keys.token({
      org: 'finance-ceptar',
      sector: 'finance',
      roles: ['ceptar'],
      sub: 'fin',
    });
    tokens.acme = await keys.token({ org: 'acme-bank', sector: 'finance', roles: ['reporter'], sub: 'acme' });
    tokens.water = await keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'], sub: 'wat' });
    tokens.telecom = await keys.token({
      org: 'telecom-ceptar',
      sector: 'telecom',
      roles: ['ceptar'],
      sub: 'tel',
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await receiver?.close();
    await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
    certificate?.remove();
    await database?.drop();
    await keys?.remove();
    if (env) await deleteTopicsWithPrefix(env.KAFKA_TOPIC_PREFIX!);
  });

  const call = async (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, body?: unknown) => {
    const response = await fetch(`${gateway.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : null };
  };

  const addWebhook = async (token: string, path: string, send?: object) => {
    const created = await call('POST', '/v1/deliveries', token, {
      channel: 'webhook',
      url: `${receiver.url}${path}`,
      ...(send ? { send } : {}),
    });
    expect(created.status).toBe(201);
    return created.json as { id: string; secret: string; organisationId: string };
  };

  const publish = async (warning: Partial<WarningSubmission> & Pick<WarningSubmission, 'sectors'>) => {
    const published = await call('POST', '/v1/warnings', tokens.analyst!, {
      title: 'Credential phishing against online banking',
      body: 'Block the domain; reset affected accounts.',
      severity: 'high',
      tlp: 'GREEN',
      ...warning,
    });
    expect(published.status).toBe(201);
    return published.json as { id: string };
  };

  it("delivers a finance warning to the finance CEPTAR's webhook, signed, and never to telecom's", async () => {
    const finance = await addWebhook(tokens.finance!, '/finance');
    const telecom = await addWebhook(tokens.telecom!, '/telecom');
    expect(finance.secret).toMatch(/^whsec_/);
    // The secret is shown once: listings never carry it.
    const listed = await call('GET', '/v1/deliveries', tokens.finance!);
    expect(listed.json.items.map((e: { id: string }) => e.id)).toEqual([finance.id]);
    expect(JSON.stringify(listed.json)).not.toContain(finance.secret);

    const warning = await publish({ sectors: ['finance'] });
    const [request] = await eventually(() => {
      const got = receiver.received('/finance');
      expect(got).toHaveLength(1);
      return got;
    });
    const signature = verifyWebhookSignature(
      finance.secret,
      request!.headers['renkei-signature'] as string,
      request!.body,
      Math.floor(Date.now() / 1000),
    );
    expect(signature).toMatchObject({ ok: true });
    const payload = webhookPayloadSchema.parse(JSON.parse(request!.body));
    expect(payload).toMatchObject({ type: 'warning', endpointId: finance.id, warning: { id: warning.id } });
    expect(request!.headers['renkei-delivery']).toBe(payload.deliveryId);
    // The recipient's view: who published it stays inside the GSOC.
    expect(request!.body).not.toContain('ana');
    expect(
      verifyWebhookSignature(
        telecom.secret,
        request!.headers['renkei-signature'] as string,
        request!.body,
        Date.now() / 1000,
      ),
    ).toMatchObject({ ok: false });

    // Telecom's endpoint is sent its own sector's next warning, in feed order: had the
    // finance warning been planned for it, it would have arrived first.
    const telecomWarning = await publish({ sectors: ['telecom'], title: 'Telecom routers' });
    const telecomReceived = await eventually(() => {
      const got = receiver.received('/telecom');
      expect(got.length).toBeGreaterThanOrEqual(1);
      return got;
    });
    expect(telecomReceived.map((r) => JSON.parse(r.body).warning.id)).toEqual([telecomWarning.id]);
    expect(receiver.received('/finance')).toHaveLength(1);

    // The GSOC sees who it reached; the log shows the attempt.
    const detail = await call('GET', `/v1/warnings/${warning.id}`, tokens.analyst!);
    const receipt = detail.json.receipts.find(
      (r: { organisationId: string }) => r.organisationId === 'finance-ceptar',
    );
    expect(receipt).toMatchObject({
      delivered: { channel: 'webhook' },
      failing: false,
      acknowledgedAt: null,
    });
    const telecomReceipt = detail.json.receipts.find(
      (r: { organisationId: string }) => r.organisationId === 'telecom-ceptar',
    );
    expect(telecomReceipt).toBeUndefined();
    const log = await call('GET', `/v1/deliveries/${finance.id}/log`, tokens.finance!);
    expect(log.json.attempts).toEqual([
      expect.objectContaining({ deliveryId: payload.deliveryId, statusCode: 204, ok: true }),
    ]);
    // Recipients see no receipts, only their own acknowledgement.
    const own = await call('GET', `/v1/warnings/${warning.id}`, tokens.finance!);
    expect(own.json.receipts).toBeUndefined();
    // Another organisation's endpoint is not there for a member.
    expect((await call('GET', `/v1/deliveries/${finance.id}/log`, tokens.telecom!)).status).toBe(404);
    expect((await call('GET', `/v1/deliveries/${finance.id}/log`, tokens.admin!)).status).toBe(200);
    await call('DELETE', `/v1/deliveries/${telecom.id}`, tokens.telecom!);
  });

  it('retries a failing receiver with backoff; the fourth attempt delivers with the same delivery id', async () => {
    receiver.failNext('/flaky', 3, 503);
    const acme = await addWebhook(tokens.acme!, '/flaky');
    const warning = await publish({ sectors: ['finance'], title: 'Flaky receiver' });
    const got = await eventually(() => {
      const requests = receiver.received('/flaky');
      expect(requests).toHaveLength(4);
      return requests;
    });
    const ids = new Set(got.map((r) => r.headers['renkei-delivery']));
    expect(ids.size).toBe(1);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    expect(JSON.parse(got[3]!.body).warning.id).toBe(warning.id);
    // Backoff: every wait is at least a tenth of its bound (base 50 ms, doubling).
    for (let i = 1; i < got.length; i += 1)
      expect(got[i]!.at - got[i - 1]!.at).toBeGreaterThanOrEqual(5 * 2 ** (i - 1) - 1);
    const log = await eventually(async () => {
      const answer = await call('GET', `/v1/deliveries/${acme.id}/log`, tokens.acme!);
      expect(answer.json.attempts).toHaveLength(4);
      return answer.json;
    });
    expect(
      log.attempts.map((a: { attempt: number; statusCode: number; ok: boolean }) => [
        a.attempt,
        a.statusCode,
        a.ok,
      ]),
    ).toEqual([
      [4, 204, true],
      [3, 503, false],
      [2, 503, false],
      [1, 503, false],
    ]);
    expect(log.deliveries[0]).toMatchObject({ state: 'delivered', attempts: 4 });
    // The delivering gateway sets the lag at its next look at the queue.
    await eventually(async () => {
      const metrics = await (await fetch(`${gateway.metricsUrl}/metrics`)).text();
      expect(metrics).toContain(
        `renkei_delivery_attempts_total{endpoint="${acme.id}",outcome="error",service="gateway"} 3`,
      );
      expect(metrics).toMatch(
        new RegExp(`renkei_delivery_lag_seconds\\{endpoint="${acme.id}",service="gateway"\\} 0\\n`),
      );
    });
    await call('DELETE', `/v1/deliveries/${acme.id}`, tokens.acme!);
  });

  it("does not let a receiver that never answers delay another endpoint's delivery", async () => {
    receiver.hangNext('/hang', 1);
    const stuck = await addWebhook(tokens.acme!, '/hang');
    const before = receiver.received('/finance').length;
    const warning = await publish({ sectors: ['finance'], title: 'One receiver hangs' });
    const [hung, delivered] = await eventually(() => {
      const hanging = receiver.received('/hang');
      const finance = receiver.received('/finance').slice(before);
      expect(hanging).toHaveLength(1);
      expect(finance).toHaveLength(1);
      return [hanging[0]!, finance[0]!];
    });
    expect(JSON.parse(delivered.body).warning.id).toBe(warning.id);
    // Both left in the same round; had the finance endpoint waited for the hung one, it would have
    // come after the hung attempt's timeout (DELIVERY_TIMEOUT_MS).
    expect(delivered.at - hung.at).toBeLessThan(Number(env.DELIVERY_TIMEOUT_MS));
    await call('DELETE', `/v1/deliveries/${stuck.id}`, tokens.acme!);
  });

  it.each([
    ['http://169.254.169.254/', 'must be an https:// URL'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://[::1]/hook', 'loopback'],
    ['https://[::ffff:10.0.0.1]/hook', 'private'],
    ['https://user:pw@localhost/hook', 'user name or password'],
  ])('refuses the webhook URL %s with a 400 naming url', async (url, reason) => {
    const refused = await call('POST', '/v1/deliveries', tokens.finance!, { channel: 'webhook', url });
    expect(refused.status).toBe(400);
    expect(refused.json.code).toBe('RENKEI_INVALID_REQUEST');
    expect(refused.json.fields).toEqual([{ field: 'url', message: expect.stringContaining(reason) }]);
  });

  it('judges the address again at every connection, and never follows a redirect', async () => {
    // localhost is on the gateway's allow-list; a sender without it refuses at connect time.
    const refused = await postWebhook(
      `${receiver.url}/direct`,
      '{}',
      {},
      { allowedHosts: [], ownAddresses: [] },
      2_000,
    );
    expect(refused).toMatchObject({
      ok: false,
      statusCode: null,
      error: expect.stringContaining('loopback'),
    });
    expect(receiver.received('/direct')).toHaveLength(0);

    receiver.failNext('/moved', 1, 302, `${receiver.url}/elsewhere`);
    const moved = await postWebhook(
      `${receiver.url}/moved`,
      '{}',
      {},
      { allowedHosts: ['localhost'], ownAddresses: [], ca: [certificate.cert] },
      2_000,
    );
    expect(moved).toMatchObject({ ok: false, statusCode: 302 });
    expect(receiver.received('/elsewhere')).toHaveLength(0);
  });

  it('refuses a member managing another organisation, and a loopback host missing from the allow-list', async () => {
    const other = await call('POST', '/v1/deliveries', tokens.finance!, {
      channel: 'webhook',
      organisationId: 'acme-bank',
      url: `${receiver.url}/x`,
    });
    expect(other.status).toBe(400);
    expect(other.json.fields[0].field).toBe('organisationId');
    const analyst = await call('POST', '/v1/deliveries', tokens.analyst!, {
      channel: 'webhook',
      url: `${receiver.url}/x`,
    });
    expect(analyst.status).toBe(403);
    const unlisted = await call('POST', '/v1/deliveries', tokens.finance!, {
      channel: 'webhook',
      url: `https://localhost.localdomain.:${receiver.port}/x`,
    });
    expect(unlisted.status).toBe(400);
    expect(unlisted.json.fields[0].field).toBe('url');
  });

  it('e-mails an AMBER+STRICT warning with no title or body, only where to read it; GREEN in full, escaped', async () => {
    const created = await call('POST', '/v1/deliveries', tokens.water!, {
      channel: 'email',
      addresses: ['duty@water.example', 'soc@water.example'],
    });
    expect(created.status).toBe(201);
    expect(created.json.secret).toBeNull();
    const strict = await publish({
      sectors: ['water'],
      tlp: 'AMBER+STRICT',
      title: 'Strict title of the incident',
      body: 'STRICT-BODY-TEXT pump station controllers compromised',
    });
    const green = await publish({
      sectors: ['water'],
      tlp: 'GREEN',
      title: 'Green <b>title</b>',
      body: 'Patch now <script>alert(1)</script>',
    });
    const [strictMail, greenMail] = await eventually(() => {
      expect(mail).toHaveLength(2);
      return mail;
    });
    expect(strictMail!.to).toMatchObject({ text: 'duty@water.example, soc@water.example' });
    for (const part of [strictMail!.subject, strictMail!.text, strictMail!.html]) {
      expect(part).toBeTruthy();
      expect(part).not.toContain('STRICT-BODY-TEXT');
      expect(part).not.toContain('Strict title');
    }
    expect(strictMail!.text).toContain(`/v1/warnings/${strict.id}`);
    expect(strictMail!.subject).toContain('TLP:AMBER+STRICT');
    // water-ceptar writes English.
    expect(strictMail!.text).toContain('is not sent by e-mail');

    expect(greenMail!.subject).toBe('[Renkei] Warning: Green <b>title</b>');
    expect(greenMail!.text).toContain('Patch now <script>alert(1)</script>');
    expect(greenMail!.html).toContain('Patch now &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(greenMail!.html).not.toContain('<script>');
    expect(greenMail!.headers.get('renkei-delivery')).toEqual(expect.any(String));

    const detail = await call('GET', `/v1/warnings/${green.id}`, tokens.analyst!);
    expect(detail.json.receipts).toEqual([
      expect.objectContaining({
        organisationId: 'water-ceptar',
        delivered: expect.objectContaining({ channel: 'email' }),
      }),
    ]);
    const test = await call('POST', `/v1/deliveries/${created.json.id}/test`, tokens.water!);
    expect(test.json).toMatchObject({ ok: true, statusCode: 250 });
    await eventually(() => expect(mail).toHaveLength(3));
    expect(mail[2]!.subject).toBe('[Renkei] Test delivery');
  });

  it('writes e-mail in Japanese for a Japanese organisation, and sends a test message to a webhook', async () => {
    const finance = await call('POST', '/v1/deliveries', tokens.finance!, {
      channel: 'email',
      addresses: ['soc@fin.example'],
    });
    const before = mail.length;
    await publish({ sectors: ['finance'], title: 'フィッシング' });
    await eventually(() => expect(mail.length).toBe(before + 1));
    expect(mail.at(-1)!.subject).toBe('[Renkei] 注意喚起: フィッシング');
    expect(mail.at(-1)!.text).toContain('重要度: 高');
    await call('DELETE', `/v1/deliveries/${finance.json.id}`, tokens.finance!);

    const hook = await addWebhook(tokens.finance!, '/tested');
    const test = await call('POST', `/v1/deliveries/${hook.id}/test`, tokens.finance!);
    expect(test.json).toMatchObject({ ok: true, statusCode: 204 });
    const [request] = receiver.received('/tested');
    expect(JSON.parse(request!.body)).toMatchObject({ type: 'test', deliveryId: test.json.deliveryId });
    const audit = await database.pool.query<{ kind: string }>(
      `SELECT kind FROM audit_events WHERE object = $1 ORDER BY id`,
      [hook.id],
    );
    expect(audit.rows.map((row) => row.kind)).toEqual(['delivery.created', 'delivery.tested']);
  });
});
