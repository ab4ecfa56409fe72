import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_WARNING_LISTS_DIR } from './index.js';
import {
  compileWarningLists,
  parseWarningList,
  type WarningList,
  type WarningListMatcher,
} from './warning-lists.js';

// A module of its own (`@renkei/indicators/load`): it reads files, and the
// package's index must stay loadable in the browser (the console validates
// reports with the schema, which reads indicators with this package).

/**
 * Reads the shipped lists and the operator's folder, in file-name order (the
 * first list holding a value names its suppression). Every correlator of a
 * hub must load the same lists, or they would not give the same answer; the
 * gateway loads them too, so a lookup names the list a report would meet.
 * A list that cannot be read stops the service at start, naming the file.
 */
export async function loadWarningLists({
  extraDir,
  disabled,
}: {
  extraDir: string | undefined;
  disabled: readonly string[];
}): Promise<WarningListMatcher> {
  const folders = [fileURLToPath(SHIPPED_WARNING_LISTS_DIR), ...(extraDir ? [extraDir] : [])];
  const lists: WarningList[] = [];
  for (const folder of folders) {
    const files = (await readdir(folder)).filter((file) => file.endsWith('.json')).sort();
    for (const file of files) {
      if (disabled.includes(file.replace(/\.json$/u, ''))) continue;
      const source = path.join(folder, file);
      let json: unknown;
      try {
        json = JSON.parse(await readFile(source, 'utf8'));
      } catch (error) {
        throw new Error(`warning list ${source}: not readable JSON`, { cause: error });
      }
      lists.push(parseWarningList(json, source));
    }
  }
  return compileWarningLists(lists);
}
