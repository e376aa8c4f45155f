// The ordered list of migrations. Listed by hand (not read from disk) so the same code runs from
// src/ under tsx and from dist/ after a build.
import type { Migration } from 'kysely';
import * as core from './0001_core.js';
import * as eventsAuditPush from './0002_events_audit_push.js';
import * as rateWindowsNameSearch from './0003_rate_windows_name_search.js';
import * as settings from './0004_settings.js';
import * as sessions from './0005_sessions.js';
import * as keyListCoveringIndex from './0006_key_list_covering_index.js';
import * as chargeQuotasFunction from './0007_charge_quotas_function.js';
import * as hitRateLimitsFunction from './0008_hit_rate_limits_function.js';
import * as chargeQuotasPerKey from './0009_charge_quotas_per_key.js';
import * as hitRateLimitsPerKey from './0010_hit_rate_limits_per_key.js';
import * as usageChunks from './0011_usage_chunks.js';
import * as projectKeyCounts from './0012_project_key_counts.js';
import * as projectNamesVersion from './0013_project_names_version.js';

export const migrations: Record<string, Migration> = {
  '0001_core': core,
  '0002_events_audit_push': eventsAuditPush,
  '0003_rate_windows_name_search': rateWindowsNameSearch,
  '0004_settings': settings,
  '0005_sessions': sessions,
  '0006_key_list_covering_index': keyListCoveringIndex,
  '0007_charge_quotas_function': chargeQuotasFunction,
  '0008_hit_rate_limits_function': hitRateLimitsFunction,
  '0009_charge_quotas_per_key': chargeQuotasPerKey,
  '0010_hit_rate_limits_per_key': hitRateLimitsPerKey,
  '0011_usage_chunks': usageChunks,
  '0012_project_key_counts': projectKeyCounts,
  '0013_project_names_version': projectNamesVersion,
};
