import { parseArgs } from 'node:util';
import {
  changeOrganisation,
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
  organisationLanguageSchema,
  organisationSubmissionSchema,
} from '@renkei/schema';
import { cliActor, withRegistry } from './registry-access.js';
import { UsageError } from './usage.js';

export const ORG_USAGE = `  org add --id ID --name NAME --sector SECTOR --kind agency|ceptar|operator|gsoc [--language ja|en]
        register an organisation (DATABASE_URL); tokens are minted only for registered ones;
        its e-mail is written in its language (Japanese unless said)
  org set-language ID ja|en
        the language of the organisation's e-mail from now on
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
          .map((o) =>
            [o.id, o.sector, o.kind, o.enabled ? 'enabled' : 'disabled', o.language, o.name].join('\t'),
          )
          .join('\n'),
      );
    case 'disable':
    case 'enable':
      return setEnabled(action, rest, env);
    case 'set-language':
      return setLanguage(rest, env);
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
        language: { type: 'string' },
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

async function setLanguage(args: string[], env: Record<string, string | undefined>): Promise<string> {
  const [rawId, rawLanguage, ...extra] = args;
  const id = organisationIdSchema.safeParse(rawId);
  const language = organisationLanguageSchema.safeParse(rawLanguage);
  if (!id.success || !language.success || extra.length > 0) {
    throw new UsageError(
      `org set-language needs an organisation id and ja or en (got ${JSON.stringify(args.join(' '))})\n\n${ORG_USAGE}`,
    );
  }
  return withRegistry(env, async (pool) => {
    const organisation = await changeOrganisation(pool, id.data, { language: language.data }, cliActor());
    if (!organisation) throw new UsageError(`no organisation ${id.data}`);
    return `${organisation.id} now receives e-mail in ${organisation.language === 'ja' ? 'Japanese' : 'English'}`;
  });
}
