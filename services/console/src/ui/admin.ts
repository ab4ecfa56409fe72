import {
  AUDIT_KINDS,
  INDICATOR_TYPES,
  ORGANISATION_KINDS,
  SECTORS,
  type AuditEvent,
  type ExclusionView,
  type Organisation,
  type OrganisationKind,
  type Sector,
  type WatchlistEntryView,
} from '@renkei/schema';
import type { MessageKey } from '../i18n.js';
import type { ConsoleContext } from './app.js';
import { append, dataValue, el, replaceChildren } from './dom.js';

export type AdminScreen = 'watchlist' | 'exclusions' | 'organisations' | 'audit';

/** Which screens a role may use: as the gateway's routes allow (it refuses the rest anyway). */
function screensFor(context: ConsoleContext): AdminScreen[] {
  const screens: AdminScreen[] = [];
  if (context.isAnalyst()) screens.push('watchlist', 'exclusions');
  if (context.isAnalyst() || context.isAdmin()) screens.push('organisations');
  if (context.isAdmin()) screens.push('audit');
  return screens;
}

const LABELS: Record<AdminScreen, MessageKey> = {
  watchlist: 'admin.watchlist',
  exclusions: 'admin.exclusions',
  organisations: 'admin.organisations',
  audit: 'admin.audit',
};

/** The administration screens: the watchlist, exclusions, organisations and the audit log. */
export function renderAdmin(context: ConsoleContext, main: HTMLElement, screen: AdminScreen): void {
  const { t } = context;
  const screens = screensFor(context);
  append(
    main,
    el(
      'nav',
      { class: 'tabs', 'aria-label': t('nav.admin') },
      ...screens.map((s) =>
        el(
          'a',
          {
            href: `#/admin/${s}`,
            'data-testid': `admin-${s}`,
            'aria-current': s === screen ? 'page' : false,
          },
          t(LABELS[s]),
        ),
      ),
    ),
  );
  const section = el('section', { class: 'card admin', 'data-testid': `admin-screen-${screen}` });
  append(main, section);
  if (!screens.includes(screen)) {
    append(section, el('p', {}, t('admin.notAllowed')));
    return;
  }
  const message = el('p', { role: 'status', 'data-testid': 'admin-message' });
  const done = (work: Promise<unknown>, reload: () => void) =>
    work
      .then(() => {
        message.textContent = t('admin.done');
        reload();
      })
      .catch((error) => {
        message.textContent = t('action.failed', { reason: context.failed(error) });
      });
  if (screen === 'watchlist') watchlistScreen(context, section, message, done);
  else if (screen === 'exclusions') exclusionsScreen(context, section, message, done);
  else if (screen === 'organisations') organisationsScreen(context, section, message, done);
  else auditScreen(context, section, message);
  context.setRefresh(() => undefined);
}

type Done = (work: Promise<unknown>, reload: () => void) => Promise<void>;

const typeSelect = (id: string) =>
  el(
    'select',
    { id, 'data-testid': id },
    ...INDICATOR_TYPES.map((type) => el('option', { value: type }, type)),
  );

function table(headers: string[], rows: HTMLElement[], testid: string) {
  return el(
    'table',
    { class: 'admin-table', 'data-testid': testid },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows),
  );
}

function watchlistScreen(context: ConsoleContext, section: HTMLElement, message: HTMLElement, done: Done) {
  const { t } = context;
  const api = context.session()!.api;
  const list = el('div');
  const type = typeSelect('wl-type');
  const value = el('input', { id: 'wl-value', type: 'text', 'data-testid': 'wl-value' });
  const note = el('input', { id: 'wl-note', type: 'text', 'data-testid': 'wl-note' });
  const reload = () =>
    void api
      .watchlist()
      .then(({ items }) =>
        replaceChildren(list, items.length === 0 ? el('p', {}, t('admin.empty')) : watchRows(items)),
      )
      .catch((error) => (message.textContent = t('action.failed', { reason: context.failed(error) })));
  const watchRows = (items: WatchlistEntryView[]) =>
    table(
      [t('admin.type'), t('admin.value'), t('admin.note'), t('admin.expires'), t('admin.by'), ''],
      items.map((entry) =>
        el(
          'tr',
          { 'data-testid': 'wl-row' },
          el('td', {}, dataValue(entry.type)),
          el('td', {}, dataValue(entry.canonical.value)),
          el('td', {}, dataValue(entry.note)),
          el('td', {}, entry.expiresAt ? context.time(entry.expiresAt) : t('admin.never')),
          el('td', {}, dataValue(entry.createdBy)),
          el(
            'td',
            {},
            el(
              'button',
              { type: 'button', on: { click: () => void done(api.removeWatchlist(entry.id), reload) } },
              t('admin.delete'),
            ),
          ),
        ),
      ),
      'watchlist',
    );
  append(
    section,
    el('h2', {}, t('admin.watchlist')),
    el(
      'form',
      {
        class: 'inline-form',
        on: {
          submit: (event) => {
            event.preventDefault();
            void done(api.addWatchlist({ type: type.value, value: value.value, note: note.value }), () => {
              value.value = '';
              note.value = '';
              reload();
            });
          },
        },
      },
      el('label', { for: 'wl-type' }, t('admin.type')),
      type,
      el('label', { for: 'wl-value' }, t('admin.value')),
      value,
      el('label', { for: 'wl-note' }, t('admin.note')),
      note,
      el('button', { type: 'submit', 'data-testid': 'wl-add' }, t('admin.add')),
    ),
    message,
    list,
  );
  reload();
}

function exclusionsScreen(context: ConsoleContext, section: HTMLElement, message: HTMLElement, done: Done) {
  const { t } = context;
  const api = context.session()!.api;
  const list = el('div');
  const type = typeSelect('ex-type');
  const value = el('input', { id: 'ex-value', type: 'text' });
  const cidr = el('input', { id: 'ex-cidr', type: 'text', size: 14 });
  const note = el('input', { id: 'ex-note', type: 'text' });
  const reload = () =>
    void api
      .exclusions()
      .then(({ items }) =>
        replaceChildren(list, items.length === 0 ? el('p', {}, t('admin.empty')) : rows(items)),
      )
      .catch((error) => (message.textContent = t('action.failed', { reason: context.failed(error) })));
  const rows = (items: ExclusionView[]) =>
    table(
      [t('admin.type'), t('admin.value'), t('admin.note'), t('admin.by'), ''],
      items.map((entry) =>
        el(
          'tr',
          {},
          el('td', {}, dataValue(entry.type)),
          el('td', {}, dataValue(entry.value ?? entry.cidr ?? '')),
          el('td', {}, dataValue(entry.note)),
          el('td', {}, dataValue(entry.createdBy)),
          el(
            'td',
            {},
            el(
              'button',
              { type: 'button', on: { click: () => void done(api.removeExclusion(entry.id), reload) } },
              t('admin.delete'),
            ),
          ),
        ),
      ),
      'exclusions',
    );
  append(
    section,
    el('h2', {}, t('admin.exclusions')),
    el(
      'form',
      {
        class: 'inline-form',
        on: {
          submit: (event) => {
            event.preventDefault();
            void done(
              api.addExclusion({
                type: type.value,
                ...(cidr.value.trim() ? { cidr: cidr.value.trim() } : { value: value.value }),
                note: note.value,
              }),
              () => {
                value.value = '';
                cidr.value = '';
                note.value = '';
                reload();
              },
            );
          },
        },
      },
      el('label', { for: 'ex-type' }, t('admin.type')),
      type,
      el('label', { for: 'ex-value' }, t('admin.value')),
      value,
      el('label', { for: 'ex-cidr' }, t('admin.cidr')),
      cidr,
      el('label', { for: 'ex-note' }, t('admin.note')),
      note,
      el('button', { type: 'submit' }, t('admin.add')),
    ),
    message,
    list,
  );
  reload();
}

function organisationsScreen(
  context: ConsoleContext,
  section: HTMLElement,
  message: HTMLElement,
  done: Done,
) {
  const { t, name } = context;
  const api = context.session()!.api;
  const admin = context.isAdmin();
  const list = el('div');
  const reload = () =>
    void api
      .organisations()
      .then(({ items }) => replaceChildren(list, rows(items)))
      .catch((error) => (message.textContent = t('action.failed', { reason: context.failed(error) })));
  const rows = (items: Organisation[]) =>
    table(
      [t('admin.id'), t('admin.name'), t('admin.sector'), t('admin.kind'), t('admin.state'), ''],
      items.map((organisation) =>
        el(
          'tr',
          { 'data-testid': 'org-row', 'data-org': organisation.id },
          el('td', {}, dataValue(organisation.id)),
          el('td', {}, dataValue(organisation.name)),
          el('td', {}, name('sector', organisation.sector)),
          el('td', {}, dataValue(organisation.kind)),
          el(
            'td',
            { 'data-testid': 'org-state', 'data-enabled': String(organisation.enabled) },
            organisation.enabled ? t('admin.enabled') : t('admin.disabled'),
          ),
          el(
            'td',
            {},
            admin &&
              el(
                'button',
                {
                  type: 'button',
                  'data-testid': organisation.enabled ? 'org-disable' : 'org-enable',
                  on: {
                    click: () =>
                      void done(api.setOrganisationEnabled(organisation.id, !organisation.enabled), reload),
                  },
                },
                organisation.enabled ? t('admin.disable') : t('admin.enable'),
              ),
          ),
        ),
      ),
      'organisations',
    );
  append(section, el('h2', {}, t('admin.organisations')));
  if (admin) {
    const id = el('input', { id: 'org-id', type: 'text', size: 14, 'data-testid': 'org-id' });
    const orgName = el('input', { id: 'org-name', type: 'text', 'data-testid': 'org-name' });
    const sector = el(
      'select',
      { id: 'org-sector' },
      ...SECTORS.map((s) => el('option', { value: s }, name('sector', s))),
    );
    const kind = el(
      'select',
      { id: 'org-kind' },
      ...ORGANISATION_KINDS.map((k) => el('option', { value: k }, k)),
    );
    append(
      section,
      el(
        'form',
        {
          class: 'inline-form',
          on: {
            submit: (event) => {
              event.preventDefault();
              void done(
                api.addOrganisation({
                  id: id.value.trim(),
                  name: orgName.value,
                  sector: sector.value as Sector,
                  kind: kind.value as OrganisationKind,
                }),
                () => {
                  id.value = '';
                  orgName.value = '';
                  reload();
                },
              );
            },
          },
        },
        el('label', { for: 'org-id' }, t('admin.id')),
        id,
        el('label', { for: 'org-name' }, t('admin.name')),
        orgName,
        el('label', { for: 'org-sector' }, t('admin.sector')),
        sector,
        el('label', { for: 'org-kind' }, t('admin.kind')),
        kind,
        el('button', { type: 'submit', 'data-testid': 'org-add' }, t('admin.add')),
      ),
    );
  }
  append(section, message, list);
  reload();
}

function auditScreen(context: ConsoleContext, section: HTMLElement, message: HTMLElement) {
  const { t } = context;
  const api = context.session()!.api;
  const list = el('div');
  const actor = el('input', { id: 'au-actor', type: 'text', size: 12 });
  const organisation = el('input', { id: 'au-org', type: 'text', size: 12 });
  const kind = el(
    'select',
    { id: 'au-kind', 'data-testid': 'au-kind' },
    el('option', { value: '' }, t('filter.any')),
    ...AUDIT_KINDS.map((k) => el('option', { value: k }, k)),
  );
  const since = el('input', { id: 'au-since', type: 'datetime-local' });
  const until = el('input', { id: 'au-until', type: 'datetime-local' });
  let events: AuditEvent[] = [];
  let nextBefore: string | null = null;
  const filters = () => {
    const chosen: Record<string, string> = {};
    if (actor.value.trim()) chosen.actor = actor.value.trim();
    if (organisation.value.trim()) chosen.organisation = organisation.value.trim();
    if (kind.value) chosen.kind = kind.value;
    if (since.value) chosen.since = new Date(since.value).toISOString();
    if (until.value) chosen.until = new Date(until.value).toISOString();
    return chosen;
  };
  const draw = () =>
    replaceChildren(
      list,
      events.length === 0
        ? el('p', {}, t('admin.empty'))
        : table(
            [
              t('admin.at'),
              t('admin.event'),
              t('admin.actor'),
              t('admin.organisation'),
              t('admin.object'),
              t('admin.outcome'),
            ],
            events.map((event) =>
              el(
                'tr',
                { 'data-testid': 'audit-row' },
                el('td', {}, context.time(event.at)),
                el('td', {}, dataValue(event.kind)),
                el('td', {}, dataValue(event.actor ?? '')),
                el('td', {}, dataValue(event.organisationId ?? '')),
                el('td', {}, dataValue(event.object ?? '')),
                el('td', {}, dataValue(event.outcome)),
              ),
            ),
            'audit',
          ),
      nextBefore &&
        el(
          'button',
          { type: 'button', 'data-testid': 'audit-more', on: { click: () => load(true) } },
          t('admin.more'),
        ),
    );
  const load = (more: boolean) =>
    void api
      .audit({ ...filters(), ...(more && nextBefore ? { before: nextBefore } : {}) })
      .then((page) => {
        events = more ? [...events, ...page.items] : page.items;
        nextBefore = page.nextBefore;
        draw();
      })
      .catch((error) => (message.textContent = t('action.failed', { reason: context.failed(error) })));
  append(
    section,
    el('h2', {}, t('admin.audit')),
    el(
      'form',
      {
        class: 'inline-form',
        on: {
          submit: (event) => {
            event.preventDefault();
            load(false);
          },
        },
      },
      el('label', { for: 'au-actor' }, t('admin.actor')),
      actor,
      el('label', { for: 'au-org' }, t('admin.organisation')),
      organisation,
      el('label', { for: 'au-kind' }, t('admin.event')),
      kind,
      el('label', { for: 'au-since' }, t('admin.since')),
      since,
      el('label', { for: 'au-until' }, t('admin.until')),
      until,
      el('button', { type: 'submit', 'data-testid': 'audit-filter' }, t('admin.filter')),
    ),
    message,
    list,
  );
  load(false);
}
