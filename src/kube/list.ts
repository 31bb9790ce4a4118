// Every object of a collection, page by page (500 a page, as kubectl asks), so a large list never
// arrives as one answer the API server must build and we must hold at once.
import type { KubeClient } from './client.js';
import type { ObjectList } from './objects.js';

export async function listAll<T>(
  client: Pick<KubeClient, 'list'>,
  path: string,
  keep: (item: T) => T = (x) => x,
): Promise<T[]> {
  const items: T[] = [];
  let cont: string | undefined;
  do {
    const page: ObjectList<T> = await client.list<T>(path, { limit: 500, continue: cont });
    for (const item of page.items) items.push(keep(item));
    cont = page.metadata.continue || undefined;
  } while (cont);
  return items;
}
