import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  compileWarningLists,
  parseWarningList,
  SHIPPED_WARNING_LISTS_DIR,
  type WarningList,
  type WarningListMatcher,
} from '@renkei/indicators';

/**
 * Reads the shipped lists and the operator's folder, in file-name order (the
 * first list holding a value names its suppression). Every correlator of a
 * hub must load the same lists, or they would not give the same answer.
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
