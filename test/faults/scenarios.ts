/**
 * The fault scenarios of `npm run faults`. Each starts what it needs (a hub on
 * a fresh database of the run's private PostgreSQL cluster and a topic prefix
 * of its own), makes load whose expected outcome is known (reports in pairs:
 * every pair whose two reports were answered 202 raises exactly one alert),
 * does its damage while the load runs, and hands the oracle's counts back.
 */
import type { Kafka } from 'kafkajs';
import { topicNames } from '@renkei/bus';
import type { Pool } from '@renkei/db';
import { percentiles } from '../../bench/lib/stats.js';
import type { Hub } from './lib/hub.js';
import type { PrivateKafka } from './lib/kafka.js';
import { ResumingStream, type Submitter } from './lib/load.js';
import { checkOracle, checkStream, type OracleResult, type StreamCheck } from './lib/oracle.js';
import type { PrivateCluster } from './lib/postgres.js';
import { sleep } from '@renkei/testing';

export interface Setting {
  smoke: number;
  full: number;
  description: string;
}

export interface FaultContext {
  smoke: boolean;
  setting(name: string): number;
  log(message: string): void;
  /** Milliseconds since the scenario started. */
  clock(): number;
  cluster: PrivateCluster;
  /** The run's single private broker, started on first use. */
  kafka(): Promise<PrivateKafka>;
  /** A three-node cluster of this scenario's own, removed when it ends. */
  kafkaCluster(): Promise<PrivateKafka>;
  tokens: { first: string; second: string; analyst: string };
  /** A fresh migrated database on the private cluster with the run's organisations, and a topic prefix. */
  startHub(options?: { kafka?: PrivateKafka; correlators?: number; env?: Record<string, string> }): Promise<{
    hub: Hub;
    pool: Pool;
    prefix: string;
    /** The hub's reports topic, for the oracle to look for lost reports on. */
    topic: { kafka: Kafka; name: string };
  }>;
  submitter(hub: Hub, retryForMs?: number): Submitter;
}

export interface FaultRow {
  scenario: string;
  done: string;
  oracle?: OracleResult;
  stream?: StreamCheck;
  p99Ms?: number;
  recovery: string;
  /** Service exits nobody asked for. */
  exits: string[];
  /** Why the verdict is what it is, when it is not a plain pass. */
  failures: string[];
  notes: string[];
}

export interface FaultScenario {
  name: string;
  title: string;
  settings: Record<string, Setting>;
  run(context: FaultContext): Promise<FaultRow>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** When the last report was stored, counted from the end of the load. */
const storedAfterLoad = (oracle: OracleResult) =>
  Number.isNaN(oracle.storedAfterMs) ? 'never' : `${seconds(oracle.storedAfterMs)} after the load`;

/** The failures every scenario shares: the oracle's counts. */
function oracleFailures(oracle: OracleResult, { gaveUpAllowed = false } = {}): string[] {
  const failures: string[] = [];
  if (oracle.lost > 0)
    failures.push(
      `${oracle.lost} reports answered 202 were never stored${oracle.lostDiagnosis ? ` (${oracle.lostDiagnosis})` : ''}`,
    );
  if (oracle.duplicated > 0)
    failures.push(`${oracle.duplicated} reports were counted twice (extra alert versions)`);
  if (oracle.alertsGot !== oracle.alertsExpected)
    failures.push(`${oracle.alertsGot} of ${oracle.alertsExpected} correlating pairs raised their alert`);
  if (oracle.ledgerNotAccepted > 0)
    failures.push(`${oracle.ledgerNotAccepted} reports answered 202 are not 'accepted' in the ledger`);
  if (oracle.auditNotOnce > 0)
    failures.push(`${oracle.auditNotOnce} reports answered 202 were not audited exactly once`);
  if (!gaveUpAllowed && oracle.gaveUp > 0)
    failures.push(`${oracle.gaveUp} reports never got a 202 within the clients' retry time`);
  return failures;
}

function exitsOf(hub: Hub): string[] {
  const byLabel = new Map<string, typeof hub.exits>();
  for (const exit of hub.exits) byLabel.set(exit.label, [...(byLabel.get(exit.label) ?? []), exit]);
  return [...byLabel.entries()].map(([label, exits]) => {
    const how = [...new Set(exits.map((exit) => exit.signal ?? `code ${exit.code}`))].join(', ');
    const when = exits.map((exit) => `+${seconds(exit.atMs)}`).join(', ');
    return `${label} exited by itself ${exits.length === 1 ? 'once' : `${exits.length} times`} (${how}) at ${when}`;
  });
}

function p99(submitter: Submitter, from = -Infinity, to = Infinity): number | undefined {
  const samples = submitter.attempts.filter((a) => a.sentAt >= from && a.sentAt <= to).map((a) => a.ms);
  return samples.length ? (percentiles(samples).p99 ?? undefined) : undefined;
}

/** When the attempts answered other than 202 were sent, against the time of a fault. */
function refusalsAround(submitter: Submitter, faultAt: number): string {
  const refused = submitter.attempts.filter((a) => a.status !== 202);
  if (refused.length === 0) return 'every attempt answered 202';
  const sent = refused.map((a) => (a.sentAt - faultAt) / 1000).sort((a, b) => a - b);
  const slowest = Math.max(...refused.map((a) => a.ms));
  const why = Object.keys(submitter.noAnswer).length
    ? `; no answer: ${JSON.stringify(submitter.noAnswer)}`
    : '';
  return `${refused.length} attempts not answered 202, sent from ${sent[0]!.toFixed(1)} s to ${sent.at(-1)!.toFixed(1)} s after the kill (slowest ${Math.round(slowest)} ms)${why}`;
}

/** Time from `from` (run clock) to the first attempt sent after it that was answered 202. */
function firstAcceptedAfter(submitter: Submitter, from: number): number | undefined {
  const first = submitter.attempts.find((a) => a.sentAt >= from && a.status === 202);
  return first ? first.sentAt - from : undefined;
}

const ingestKill: FaultScenario = {
  name: 'ingest-kill',
  title: 'kill -9 of ingest under load; clients retry with the same id; ingest restarted at once',
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    seconds: { smoke: 20, full: 60, description: 'length of the load' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const { hub, pool, topic } = await context.startHub();
    const submitter = context.submitter(hub);
    let killedAt: number | undefined;
    let readyAfter: number | undefined;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (killedAt === undefined && elapsed > (length * 1000) / 3) {
        killedAt = context.clock();
        context.log('kill -9 ingest');
        void hub.ingest.kill().then(async () => {
          const restarted = performance.now();
          await hub.ingest.start();
          readyAfter = performance.now() - restarted;
        });
      }
    });
    const oracle = await checkOracle(pool, submitter, { topic });
    const firstAccepted = killedAt === undefined ? undefined : firstAcceptedAfter(submitter, killedAt);
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; ingest kill -9 at ${(length / 3) | 0} s, restarted at once`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `ready ${readyAfter === undefined ? '?' : seconds(readyAfter)} after restart; first 202 ${firstAccepted === undefined ? 'never' : seconds(firstAccepted)} after the kill`,
      exits: exitsOf(hub),
      failures: oracleFailures(oracle),
      notes: [],
    };
  },
};

const brokerKill: FaultScenario = {
  name: 'broker-kill',
  title: 'kill -9 of the only broker under load, restarted after a while; clients retry',
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    seconds: { smoke: 30, full: 90, description: 'length of the load' },
    downSeconds: { smoke: 8, full: 30, description: 'how long the broker stays down' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const down = context.setting('downSeconds');
    const kafka = await context.kafka();
    const { hub, pool, topic } = await context.startHub({ kafka });
    const submitter = context.submitter(hub, 120_000);
    let killedAt: number | undefined;
    let back: number | undefined;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (killedAt === undefined && elapsed > (length * 1000) / 3) {
        killedAt = context.clock();
        context.log('kill -9 of the broker');
        void kafka
          .kill(1)
          .then(() => sleep(down * 1000))
          .then(() => kafka.startNode(1))
          .then(() => (back = context.clock()));
      }
    });
    // The restart may still be under way when the last report was answered.
    for (const deadline = Date.now() + 180_000; back === undefined && Date.now() < deadline;)
      await sleep(500);
    const oracle = await checkOracle(pool, submitter, { topic });
    const firstAccepted = back === undefined ? undefined : firstAcceptedAfter(submitter, back);
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; one broker kill -9 at ${(length / 3) | 0} s, down ${down} s`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `broker back ${back === undefined || killedAt === undefined ? 'never' : `${seconds(back - killedAt)} after the kill`}; first 202 ${firstAccepted === undefined ? 'never' : seconds(firstAccepted)} after it`,
      exits: exitsOf(hub),
      failures: oracleFailures(oracle),
      notes: ['one broker: 503s while it is down are correct (never a 202 without the acknowledgement)'],
    };
  },
};

async function isrState(kafka: Kafka, prefix: string): Promise<{ partitions: number; full: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    const metadata = await admin.fetchTopicMetadata({ topics });
    const partitions = metadata.topics.flatMap((topic) => topic.partitions);
    return { partitions: partitions.length, full: partitions.filter((p) => p.isr.length === 3).length };
  } finally {
    await admin.disconnect();
  }
}

const brokerCluster: FaultScenario = {
  name: 'broker-cluster',
  title: 'three brokers: kill -9 of the node leading most report partitions under 200 reports/s, restarted',
  settings: {
    rate: { smoke: 100, full: 200, description: 'reports per second' },
    seconds: { smoke: 40, full: 120, description: 'length of the load' },
    downSeconds: { smoke: 10, full: 30, description: 'how long the node stays down' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const down = context.setting('downSeconds');
    const kafka = await context.kafkaCluster();
    const { hub, pool, prefix, topic } = await context.startHub({
      kafka,
      env: { KAFKA_REPLICATION_FACTOR: '3' },
    });
    const client = kafka.client();
    const before = await isrState(client, prefix);
    // The node that leads most partitions of the reports topic: its loss moves the most leadership.
    const reportsTopic = topicNames(prefix).reports;
    const leaders = new Map<number, number>();
    {
      const admin = client.admin();
      await admin.connect();
      const metadata = await admin.fetchTopicMetadata({ topics: [reportsTopic] });
      await admin.disconnect();
      for (const partition of metadata.topics[0]!.partitions)
        leaders.set(partition.leader, (leaders.get(partition.leader) ?? 0) + 1);
    }
    const [victim, led] = [...leaders.entries()].sort((a, b) => b[1] - a[1])[0]!;
    const submitter = context.submitter(hub);
    let killedAt: number | undefined;
    let back: number | undefined;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (killedAt === undefined && elapsed > (length * 1000) / 3) {
        killedAt = context.clock();
        context.log(`kill -9 of node ${victim} (leader of ${led} report partitions)`);
        void kafka
          .kill(victim)
          .then(() => sleep(down * 1000))
          .then(() => kafka.startNode(victim))
          .then(() => (back = context.clock()));
      }
    });
    for (const deadline = Date.now() + 180_000; back === undefined && Date.now() < deadline;)
      await sleep(500);
    let fullIsrAfter: number | undefined;
    let after = { partitions: 0, full: 0 };
    if (back !== undefined) {
      for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
        after = await isrState(client, prefix).catch(() => after);
        if (after.partitions > 0 && after.full === after.partitions) {
          fullIsrAfter = context.clock() - back;
          break;
        }
        await sleep(1_000);
      }
    }
    const oracle = await checkOracle(pool, submitter, { topic });
    const during =
      killedAt === undefined ? undefined : p99(submitter, killedAt, killedAt + down * 1000 + 10_000);
    const failures = oracleFailures(oracle);
    const refused = Object.entries(oracle.non202).reduce((sum, [, n]) => sum + n, 0);
    if (refused > 0) failures.push(`${refused} answers other than 202 (${JSON.stringify(oracle.non202)})`);
    if (fullIsrAfter === undefined)
      failures.push(`ISR not full after the restart: ${after.full} of ${after.partitions} partitions`);
    return {
      scenario: this.name,
      done: `3 brokers, ${rate}/s for ${length} s; node ${victim} (led ${led}/${leaders.size ? [...leaders.values()].reduce((a, b) => a + b) : 0} report partitions) kill -9 at ${(length / 3) | 0} s, down ${down} s`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `POST p99 during the kill ${during === undefined ? '?' : `${Math.round(during)} ms`}; full ISR (${before.full}/${before.partitions} before) ${fullIsrAfter === undefined ? 'not reached' : `${seconds(fullIsrAfter)} after the restart`}`,
      exits: exitsOf(hub),
      failures,
      notes: killedAt === undefined ? [] : [refusalsAround(submitter, killedAt)],
    };
  },
};

const postgresKill: FaultScenario = {
  name: 'postgres-kill',
  title: "kill -9 of PostgreSQL's postmaster under load, started again at once",
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    seconds: { smoke: 30, full: 90, description: 'length of the load' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const { hub, pool, topic } = await context.startHub();
    pool.on('error', () => undefined);
    const submitter = context.submitter(hub, 120_000);
    let killedAt: number | undefined;
    let back: number | undefined;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (killedAt === undefined && elapsed > (length * 1000) / 3) {
        killedAt = context.clock();
        context.log('kill -9 of the postmaster');
        void context.cluster
          .killPostmaster()
          .then(() => sleep(1_000))
          .then(() => context.cluster.start())
          .then(() => (back = context.clock()));
      }
    });
    for (const deadline = Date.now() + 120_000; back === undefined && Date.now() < deadline;)
      await sleep(500);
    const oracle = await checkOracle(pool, submitter, { topic });
    const readyAgain = await Promise.all(hub.all.map((service) => service.ready()));
    const failures = oracleFailures(oracle);
    if (readyAgain.some((ready) => !ready)) failures.push('not every service is ready again at the end');
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; postmaster kill -9 at ${(length / 3) | 0} s, started again`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `database back ${back === undefined || killedAt === undefined ? 'never' : `${seconds(back - killedAt)} after the kill`}; all stored ${storedAfterLoad(oracle)}`,
      exits: exitsOf(hub),
      failures,
      notes: [],
    };
  },
};

const postgresStop: FaultScenario = {
  name: 'postgres-stop',
  title: 'PostgreSQL stopped for five minutes under 100 reports/s (the goal: every POST 202)',
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    stopSeconds: { smoke: 20, full: 300, description: 'how long the database stays stopped' },
    marginSeconds: { smoke: 10, full: 20, description: 'load before the stop and after the return' },
    retrySeconds: { smoke: 30, full: 60, description: 'how long a client retries one report' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const stop = context.setting('stopSeconds');
    const margin = context.setting('marginSeconds');
    const length = stop + 2 * margin;
    const { hub, pool, topic } = await context.startHub();
    pool.on('error', () => undefined);
    const submitter = context.submitter(hub, context.setting('retrySeconds') * 1000);
    let stoppedAt: number | undefined;
    let back: number | undefined;
    let ledgerCaughtUp: number | undefined;
    let acceptedBeforeReturn: string[] = [];
    let recovered: Promise<void> | undefined;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (stoppedAt === undefined && elapsed > margin * 1000) {
        stoppedAt = context.clock();
        context.log(`PostgreSQL stopped for ${stop} s`);
        recovered = context.cluster
          .stop()
          .then(() => sleep(stop * 1000 - (context.clock() - stoppedAt!)))
          .then(() => context.cluster.start())
          .then(async () => {
            back = context.clock();
            context.log('PostgreSQL back');
            // Every report answered 202 so far must be visible as accepted soon after the return.
            acceptedBeforeReturn = submitter.accepted().map((outcome) => outcome.id);
            for (const deadline = performance.now() + 120_000; performance.now() < deadline;) {
              const { rows } = await pool
                .query<{ n: string }>(
                  `SELECT count(*) AS n FROM report_submissions WHERE id = ANY($1::uuid[]) AND state = 'accepted'`,
                  [acceptedBeforeReturn],
                )
                .catch(() => ({ rows: [{ n: '-1' }] }));
              if (Number(rows[0]!.n) === acceptedBeforeReturn.length) {
                ledgerCaughtUp = context.clock() - back;
                break;
              }
              await sleep(500);
            }
          });
      }
    });
    await recovered;
    const oracle = await checkOracle(pool, submitter, { topic });
    const failures = oracleFailures(oracle, { gaveUpAllowed: false });
    const firstAnswers = submitter.attempts.filter((a) => a.status !== 202).length;
    if (firstAnswers > 0)
      failures.push(`${firstAnswers} POST answers were not 202 (the goal: every one 202)`);
    if (ledgerCaughtUp === undefined || ledgerCaughtUp > 10_000)
      failures.push(
        `the ${acceptedBeforeReturn.length} reports answered 202 before the return were ${ledgerCaughtUp === undefined ? 'not all accepted in the ledger within 120 s' : `accepted only ${seconds(ledgerCaughtUp)} after it (goal 10 s)`}`,
      );
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; PostgreSQL stopped ${stop} s from ${margin} s`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `ledger ${ledgerCaughtUp === undefined ? 'not caught up' : `caught up ${seconds(ledgerCaughtUp)}`} after the return (${acceptedBeforeReturn.length} ids); all stored ${storedAfterLoad(oracle)}`,
      exits: exitsOf(hub),
      failures,
      notes: [],
    };
  },
};

const correlatorKill: FaultScenario = {
  name: 'correlator-kill',
  title: 'three correlators, one killed -9 every 10 s (and started again) under load',
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    seconds: { smoke: 40, full: 120, description: 'length of the load' },
    everySeconds: { smoke: 10, full: 10, description: 'time between kills' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const every = context.setting('everySeconds') * 1000;
    const { hub, pool, topic } = await context.startHub({ correlators: 3 });
    const submitter = context.submitter(hub);
    let kills = 0;
    let nextKill = every;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (elapsed >= nextKill) {
        nextKill += every;
        const victim = hub.correlators[kills % hub.correlators.length]!;
        kills += 1;
        context.log(`kill -9 ${victim.label}`);
        void victim.kill().then(() => victim.start().catch(() => undefined));
      }
    });
    const oracle = await checkOracle(pool, submitter, { topic });
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; 3 correlators, ${kills} kill -9 (one every ${every / 1000} s)`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `all stored ${storedAfterLoad(oracle)}`,
      exits: exitsOf(hub),
      failures: oracleFailures(oracle),
      notes: [],
    };
  },
};

const poison: FaultScenario = {
  name: 'poison',
  title: 'malformed records written straight to the reports topic, among real reports',
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    seconds: { smoke: 20, full: 60, description: 'length of the load' },
    poison: { smoke: 30, full: 300, description: 'malformed records' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const count = context.setting('poison');
    const kafka = await context.kafka();
    const { hub, pool, topic } = await context.startHub({ kafka });
    const producer = kafka.client().producer();
    await producer.connect();
    const kinds = [
      () => ({ value: 'not json {' }),
      () => ({ value: JSON.stringify({ schema: 'renkei.report.v1', id: 'not-a-uuid' }) }),
      () => ({ value: JSON.stringify({ hello: 'world' }) }),
      () => ({ value: '' }),
      () => ({ value: null }),
      () => ({ value: Buffer.from([0xff, 0xfe, 0x00, 0x81]) }),
      () => ({ value: JSON.stringify([1, 2, 3]) }),
      () => ({ value: 'x'.repeat(200_000) }),
    ];
    const submitter = context.submitter(hub);
    let sent = 0;
    let failedSends = 0;
    let sending = Promise.resolve();
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      const due = Math.min(count, Math.floor((elapsed / (length * 1000)) * count));
      while (sent < due) {
        const message = kinds[sent % kinds.length]!();
        sent += 1;
        sending = sending.then(() =>
          producer
            .send({ topic: topic.name, acks: -1, messages: [{ key: `poison-${sent}`, ...message }] })
            .then(
              () => undefined,
              () => void (failedSends += 1),
            ),
        );
      }
    });
    // The last tick may fall short of the whole count.
    while (sent < count) {
      const message = kinds[sent % kinds.length]!();
      sent += 1;
      await producer
        .send({ topic: topic.name, acks: -1, messages: [{ key: `poison-${sent}`, ...message }] })
        .catch(() => void (failedSends += 1));
    }
    await sending;
    await producer.disconnect();
    const oracle = await checkOracle(pool, submitter, { topic });
    const accepted = submitter.accepted().map((outcome) => outcome.id);
    const { rows } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM reports WHERE NOT (id = ANY($1::uuid[]))',
      [accepted],
    );
    const failures = oracleFailures(oracle);
    if (Number(rows[0]!.n) > 0) failures.push(`${rows[0]!.n} reports stored that no client sent`);
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; ${sent - failedSends} malformed records (${kinds.length} kinds) on the reports topic`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `all stored ${storedAfterLoad(oracle)}`,
      exits: exitsOf(hub),
      failures,
      notes: failedSends ? [`${failedSends} poison sends were refused by the broker`] : [],
    };
  },
};

const gatewayKill: FaultScenario = {
  name: 'gateway-kill',
  title: 'kill -9 of the gateway under load; stream clients resume with after=<cursor>',
  settings: {
    rate: { smoke: 40, full: 100, description: 'reports per second' },
    seconds: { smoke: 30, full: 60, description: 'length of the load' },
    clients: { smoke: 3, full: 10, description: 'resuming stream clients' },
  },
  async run(context) {
    const rate = context.setting('rate');
    const length = context.setting('seconds');
    const { hub, pool, topic } = await context.startHub();
    const streams = Array.from(
      { length: context.setting('clients') },
      () => new ResumingStream(() => hub.gateway.url, context.tokens.analyst),
    );
    await Promise.all(streams.map((stream) => stream.open()));
    const submitter = context.submitter(hub);
    let killedAt: number | undefined;
    let readyAfter: number | undefined;
    await submitter.openLoop(rate * length, rate, (elapsed) => {
      if (killedAt === undefined && elapsed > (length * 1000) / 2) {
        killedAt = context.clock();
        context.log('kill -9 gateway');
        void hub.gateway.kill().then(async () => {
          const restarted = performance.now();
          await hub.gateway.start();
          readyAfter = performance.now() - restarted;
        });
      }
    });
    const oracle = await checkOracle(pool, submitter, { topic });
    // The streams catch up with the feed; bounded, then compared with it.
    const expected = Number(
      (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM feed_events WHERE kind = 'alert'`)).rows[0]!
        .n,
    );
    for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
      if (
        streams.every(
          (stream) => new Set(stream.events.map((e) => `${e.alertId}/${e.version}`)).size >= expected,
        )
      )
        break;
      await sleep(500);
    }
    await sleep(2_000);
    await Promise.all(streams.map((stream) => stream.close()));
    const checks = await Promise.all(streams.map((stream) => checkStream(pool, stream.events)));
    const stream: StreamCheck = {
      expected: checks[0]?.expected ?? 0,
      received: checks.reduce((sum, c) => sum + c.received, 0),
      missing: checks.reduce((sum, c) => sum + c.missing, 0),
      repeated: checks.reduce((sum, c) => sum + c.repeated, 0),
      outOfOrder: checks.reduce((sum, c) => sum + c.outOfOrder, 0),
    };
    const failures = oracleFailures(oracle);
    if (stream.missing || stream.repeated || stream.outOfOrder)
      failures.push(
        `stream clients: ${stream.missing} events missing, ${stream.repeated} repeated, ${stream.outOfOrder} out of order`,
      );
    return {
      scenario: this.name,
      done: `${rate}/s for ${length} s; ${streams.length} stream clients; gateway kill -9 at ${(length / 2) | 0} s, restarted at once`,
      oracle,
      stream,
      p99Ms: p99(submitter),
      recovery: `gateway ready ${readyAfter === undefined ? '?' : seconds(readyAfter)} after restart; ${streams.reduce((sum, s) => sum + s.reconnects, 0)} reconnects`,
      exits: exitsOf(hub),
      failures,
      notes: [
        `each of ${streams.length} clients: ${stream.expected} alert events expected (the feed's), ${stream.received} received in all`,
      ],
    };
  },
};

const burst: FaultScenario = {
  name: 'burst',
  title: 'a burst of 10,000 reports as fast as 64 clients get answers',
  settings: {
    reports: { smoke: 1_000, full: 10_000, description: 'reports in the burst' },
    concurrency: { smoke: 32, full: 64, description: 'clients' },
  },
  async run(context) {
    const count = context.setting('reports');
    const concurrency = context.setting('concurrency');
    const { hub, pool, topic } = await context.startHub();
    const submitter = context.submitter(hub);
    const started = performance.now();
    await submitter.burst(count, concurrency);
    const answered = performance.now() - started;
    const oracle = await checkOracle(pool, submitter, { timeoutMs: 300_000, topic });
    return {
      scenario: this.name,
      done: `${count} reports, ${concurrency} clients (answered in ${seconds(answered)})`,
      oracle,
      p99Ms: p99(submitter),
      recovery: `all stored ${Number.isNaN(oracle.storedAfterMs) ? 'never' : `${seconds(oracle.storedAfterMs)} after the last answer`}`,
      exits: exitsOf(hub),
      failures: oracleFailures(oracle),
      notes: [],
    };
  },
};

export const FAULT_SCENARIOS: FaultScenario[] = [
  ingestKill,
  brokerKill,
  brokerCluster,
  postgresKill,
  postgresStop,
  correlatorKill,
  poison,
  gatewayKill,
  burst,
];
