import type { CampaignInput, ImportResult, Store } from '../../storage/store.js';
import { readRecipientCsv } from './csv.js';
import { IngressError } from './errors.js';
import { checkMessageOptions } from './message.js';

/**
 * Streams a CSV into a new campaign. The campaign stays `importing` (never claimed) until the last
 * row is stored; any failure removes it whole, so a bad file leaves nothing half-stored.
 */
export async function importCampaignCsv(store: Store, campaign: CampaignInput, file: string, now = Date.now(), status: 'running' | 'draft' = 'running'): Promise<ImportResult> {
  const problems = checkMessageOptions(campaign);
  if (problems.length > 0) throw new IngressError('INPUT_INVALID', problems.map((p) => `${p.field}: ${p.reason}`).join('; '));
  const id = store.beginImport(campaign, now);
  let duplicates = 0;
  try {
    for await (const batch of readRecipientCsv(file)) {
      duplicates += store.addRecipients(id, batch.recipients, batch.invalid, now).duplicates;
    }
    return { ...store.finishImport(id, status), duplicates };
  } catch (err) {
    try {
      store.abortImport(id);
    } catch {
      // A full disk refuses the abort too: the campaign stays `importing` (never claimed) and the
      // next engine start removes it (Store.purgeAbortedImports). The first error is the one to report.
    }
    throw err;
  }
}
