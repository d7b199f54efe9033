import { Module } from '@nestjs/common';
import { ProcoreModule } from '../../procore/procore.module';
import { ReconciliationModule } from '../../reconciliation/reconciliation.module';
import { SecurityModule } from '../../security/security.module';
import { SpectrumExportModule } from '../../spectrum/spectrum-export.module';
import { BudgetsModule } from '../budgets.module';
import { BudgetRemapController } from './budget-remap.controller';
import { BudgetSendController } from './budget-send.controller';
import { BudgetsController } from './budgets.controller';
import { PreviewController } from './preview.controller';
import { ReconciliationController } from './reconciliation.controller';

/**
 * The whole `api/v1/budgets` surface in one place: reads and decisions (the budgets module's use
 * cases), the send (Procore), remap (the mapping), the preview (Spectrum) and the reconciliation
 * report. It sits above the modules it calls; nothing imports it but the application.
 */
@Module({
  imports: [BudgetsModule, ProcoreModule, SpectrumExportModule, ReconciliationModule, SecurityModule],
  controllers: [BudgetsController, BudgetSendController, BudgetRemapController, PreviewController, ReconciliationController],
})
export class BudgetsApiModule {}
