import { parseArgs } from 'node:util';
import {
  findOrganisation,
  listOrganisations,
  registerOrganisation,
  setOrganisationEnabled,
} from '@renkei/registry';
import { RenkeiError } from '@renkei/runtime';
import {
  describeIssues,
  fieldIssues,
  organisationIdSchema,
  organisationSubmissionSchema,
} from '@renkei/schema';
import { cliActor, withRegistry } from './registry-access.js';
import { UsageError } from './usage.js';

export const ORG_USAGE = `  org add --id ID --name NAME --sector SECTOR --kind agency|ceptar|operator|gsoc
        register an organisation (DATABASE_URL); tokens are minted only for registered ones
  org list
        every organisation, one per line: id, sector, kind, enabled, name
  org disable ID | org enable ID
        refuse (or honour again) the organisation's tokens; its open streams close within seconds`;

/** `renkei org …`: the organisation registry, every change audited. */
export async function orgCommand(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const [action, ...rest] = args;
  switch (action) {
    case 'add':
      return add(rest, env);
    case 'list':
      return withRegistry(env, async (pool) =>
        (await listOrganisations(pool))
          .map((o) => [o.id, o.sector, o.kind, o.enabled ? 'enabled' : 'disabled', o.name].join('\t'))
          .join('\n'),
      );
    case 'disable':
    case 'enable':
      return setEnabled(action, rest, env);
    default:
      throw new UsageError(`org: unknown action ${JSON.stringify(action ?? '')}\n\n${ORG_USAGE}`);
  }
}

async function add(args: string[], env: Record<string, string | undefined>): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        id: { type: 'string' },
        name: { type: 'string' },
        sector: { type: 'string' },
        kind: { type: 'string' },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${ORG_USAGE}`);
  }
  const submission = organisationSubmissionSchema.safeParse(values);
  if (!submission.success) {
    throw new UsageError(
      describeIssues(fieldIssues(submission.error).map((issue) => ({ ...issue, field: `--${issue.field}` }))),
    );
  }
  return withRegistry(env, async (pool) => {
    try {
      const organisation = await registerOrganisation(pool, submission.data, cliActor());
      return `registered ${organisation.id} (${organisation.kind}, ${organisation.sector})`;
    } catch (error) {
      if (error instanceof RenkeiError && error.code === 'RENKEI_CONFLICT')
        throw new UsageError(error.message);
      throw error;
    }
  });
}

async function setEnabled(
  action: 'disable' | 'enable',
  args: string[],
  env: Record<string, string | undefined>,
): Promise<string> {
  const [id, ...extra] = args;
  const parsed = organisationIdSchema.safeParse(id);
  if (!parsed.success || extra.length > 0) {
    throw new UsageError(`org ${action}: give one organisation id\n\n${ORG_USAGE}`);
  }
  return withRegistry(env, async (pool) => {
    if (!(await findOrganisation(pool, parsed.data))) {
      throw new UsageError(`no organisation ${parsed.data}: see "renkei org list"`);
    }
    await setOrganisationEnabled(pool, parsed.data, action === 'enable', cliActor());
    return `${action}d ${parsed.data}`;
  });
}
