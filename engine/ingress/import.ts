import type { CampaignInput, ImportResult, Store } from '../../storage/store.js';
import { readRecipientCsv } from './csv.js';

/**
 * Streams a CSV into a new campaign. The campaign stays `importing` (never claimed) until the last
 * row is stored; any failure removes it whole, so a bad file leaves nothing half-stored.
 */
export async function importCampaignCsv(store: Store, campaign: CampaignInput, file: string, now = Date.now()): Promise<ImportResult> {
  const id = store.beginImport(campaign, now);
  let duplicates = 0;
  try {
    for await (const batch of readRecipientCsv(file)) {
      duplicates += store.addRecipients(id, batch.recipients, batch.invalid, now).duplicates;
    }
    return { ...store.finishImport(id), duplicates };
  } catch (err) {
    store.abortImport(id);
    throw err;
  }
}
