import { Module } from '@nestjs/common';
import { ProcoreModule } from '../../procore/procore.module';
import { ReconciliationModule } from '../../reconciliation/reconciliation.module';
import { DatabaseModule } from '../../database/database.module';
import { ObservabilityModule } from '../../observability/observability.module';
import { SecurityModule } from '../../security/security.module';
import { SpectrumExportModule } from '../../spectrum/spectrum-export.module';
import { BudgetsModule } from '../budgets.module';
import { BudgetRemapController } from './budget-remap.controller';
import { BudgetSendController } from './budget-send.controller';
import { BudgetsController } from './budgets.controller';
import { PreviewController } from './preview.controller';
import { ReadCache } from './read-cache';
import { ReconciliationController } from './reconciliation.controller';

/**
 * The whole `api/v1/budgets` surface in one place: reads and decisions (the budgets module's use
 * cases), the send (Procore), remap (the mapping), the preview (Spectrum) and the reconciliation
 * report; the list and details are answered through the ReadCache. It sits above the modules it calls; nothing imports it but the application.
 */
@Module({
  imports: [BudgetsModule, DatabaseModule, ObservabilityModule, ProcoreModule, SpectrumExportModule, ReconciliationModule, SecurityModule],
  providers: [ReadCache],
  controllers: [BudgetsController, BudgetSendController, BudgetRemapController, PreviewController, ReconciliationController],
})
export class BudgetsApiModule {}
