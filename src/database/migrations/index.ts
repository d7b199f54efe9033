import { MigrationObject } from '@mikro-orm/core';
import { Migration20261125234532_Initial } from './Migration20261125234532_Initial';
import { Migration20261125235841_Integrations } from './Migration20261125235841_Integrations';
import { Migration20261126005005_PendingWorkDedupeIndex } from './Migration20261126005005_PendingWorkDedupeIndex';
import { Migration20261127180826_TokenExpiryAndAuditSubject } from './Migration20261127180826_TokenExpiryAndAuditSubject';
import { Migration20261127181632_WebhookEventStatus } from './Migration20261127181632_WebhookEventStatus';
import { Migration20261127193000_ConsoleSessions } from './Migration20261127193000_ConsoleSessions';
import { Migration20261127194000_PendingWorkRerun } from './Migration20261127194000_PendingWorkRerun';
import { Migration20261127200000_RemovedRows } from './Migration20261127200000_RemovedRows';
import { Migration20261127201000_DetailPagingIndexes } from './Migration20261127201000_DetailPagingIndexes';
import { Migration20261127202000_SnapshotMappingInputs } from './Migration20261127202000_SnapshotMappingInputs';
import { Migration20261127221500_ProblemStatistics } from './Migration20261127221500_ProblemStatistics';
import { Migration20261128010000_ReadChangeNotifications } from './Migration20261128010000_ReadChangeNotifications';
import { Migration20261128120000_ReadChangeRowSpans } from './Migration20261128120000_ReadChangeRowSpans';

/** Every migration, oldest first. A new migration file is added here too. */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261125234532_Initial', class: Migration20261125234532_Initial },
  { name: 'Migration20261125235841_Integrations', class: Migration20261125235841_Integrations },
  { name: 'Migration20261126005005_PendingWorkDedupeIndex', class: Migration20261126005005_PendingWorkDedupeIndex },
  { name: 'Migration20261127180826_TokenExpiryAndAuditSubject', class: Migration20261127180826_TokenExpiryAndAuditSubject },
  { name: 'Migration20261127181632_WebhookEventStatus', class: Migration20261127181632_WebhookEventStatus },
  { name: 'Migration20261127193000_ConsoleSessions', class: Migration20261127193000_ConsoleSessions },
  { name: 'Migration20261127194000_PendingWorkRerun', class: Migration20261127194000_PendingWorkRerun },
  { name: 'Migration20261127200000_RemovedRows', class: Migration20261127200000_RemovedRows },
  { name: 'Migration20261127201000_DetailPagingIndexes', class: Migration20261127201000_DetailPagingIndexes },
  { name: 'Migration20261127202000_SnapshotMappingInputs', class: Migration20261127202000_SnapshotMappingInputs },
  { name: 'Migration20261127221500_ProblemStatistics', class: Migration20261127221500_ProblemStatistics },
  { name: 'Migration20261128010000_ReadChangeNotifications', class: Migration20261128010000_ReadChangeNotifications },
  { name: 'Migration20261128120000_ReadChangeRowSpans', class: Migration20261128120000_ReadChangeRowSpans },
];
