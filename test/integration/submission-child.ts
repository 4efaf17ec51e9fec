/**
 * A submission server in a process of its own, for the kill -9 test: argv[2] is the config file.
 * Credentials are checked as `mxpress start` checks them (users' API keys in the database).
 */
import { pino } from 'pino';
import { apiKeySubmitter } from '../../admin/auth/session.js';
import { loadConfig } from '../../engine/config/load.js';
import { Intake } from '../../engine/submission/intake.js';
import { startConfiguredSubmission } from '../../engine/submission/start.js';
import { openSqliteStore } from '../../storage/sqlite/store.js';

const config = loadConfig(process.argv[2]!);
const store = openSqliteStore(config.storage.path);
const server = await startConfiguredSubmission(config, store, pino({ level: 'silent' }), { verify: apiKeySubmitter(store), intake: new Intake(store, config.submission.rate) });
process.stdout.write(`listening ${server.host}:${server.port}\n`);
