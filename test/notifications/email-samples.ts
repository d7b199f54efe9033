import {
  DailySummaryEmail,
  EmailKind,
  EmailModels,
  FailedToExportEmail,
  OutOfSyncEmail,
  ReSentEmail,
  RejectedEmail,
  SubmissionSummary,
} from '../../src/notifications/email-content';

/** Realistic view models of every email, for the renderer's specs and the delivery test. */

export const PUBLIC_URL = 'https://erp-connector.example.com';
export const TIME_ZONE = 'America/Chicago';

export const HOSTILE_REASON =
  'Phase 03-300 <script>alert("x")</script> is double-counted & the L cost type should be "M".\nPlease re-check 05-120 too.';

export const pat = { name: 'Pat Lee', email: 'pat.lee@builder.example.com' };
export const dana = { name: 'Dana Ruiz', email: 'dana.ruiz@builder.example.com' };

export function submission(overrides: Partial<SubmissionSummary> = {}): SubmissionSummary {
  return {
    id: '1042',
    projectName: 'Riverside Medical Office Building',
    job: '24-017',
    sender: pat,
    // 2025-03-10 07:05 CDT
    sentAt: new Date('2025-03-10T12:05:00Z'),
    lineCount: 42,
    revisedEstimate: 123456789n,
    ...overrides,
  };
}

export function dailySummary(): DailySummaryEmail {
  return {
    recipient: { name: 'Dana Ruiz' },
    generatedAt: new Date('2025-03-11T12:00:00Z'),
    submissions: [
      submission(),
      submission({
        id: '1043',
        projectName: 'Oak Street Parking Garage',
        job: '24-021',
        sender: null,
        sentAt: new Date('2025-03-10T19:40:00Z'),
        lineCount: 7,
        revisedEstimate: -1205n,
      }),
      submission({
        id: '1047',
        projectName: 'Lakeview School Renovation',
        job: '23-114',
        sender: { name: 'Sam Chen', email: null },
        sentAt: new Date('2025-03-11T08:15:00Z'),
        lineCount: 118,
        revisedEstimate: 98765432100n,
      }),
    ],
  };
}

export function rejected(reason = HOSTILE_REASON): RejectedEmail {
  return {
    recipient: { name: 'Pat Lee' },
    submission: submission(),
    rejectedBy: dana,
    rejectedAt: new Date('2025-03-11T15:30:00Z'),
    reason,
  };
}

export function reSent(): ReSentEmail {
  return {
    recipient: { name: 'Dana Ruiz' },
    submission: { ...submission({ id: '1051' }), originalBudget: 120000000n, budgetChanges: 3456789n },
    previous: {
      status: 'rejected',
      at: new Date('2025-03-11T15:30:00Z'),
      by: dana,
      reason: HOSTILE_REASON,
    },
  };
}

export function failedToExport(): FailedToExportEmail {
  return {
    recipient: { name: 'Dana Ruiz' },
    submission: submission(),
    failedAt: new Date('2025-03-12T14:02:00Z'),
    rowsWritten: 13,
    rowsTotal: 15,
    errors: [
      { job: '24-017', phase: '03-300', costType: 'L', code: 'I', message: 'Invalid Cost Type', column: 'Cost_Type' },
      { job: '24-017', phase: '09-900', costType: 'M', code: 'M', message: 'Phase <09-900> & more missing', column: null },
    ],
  };
}

export function outOfSync(): OutOfSyncEmail {
  return {
    recipient: { name: 'Dana Ruiz' },
    submission: submission(),
    reconciledAt: new Date('2025-03-12T15:00:00Z'),
    spectrumCompany: 'BC1',
    variances: [
      {
        job: '24-017',
        phase: '03-300',
        costType: 'L',
        description: 'Concrete footings',
        procoreRevised: 1200000n,
        spectrumEstimated: 1000000n,
        variance: -200000n,
        status: 'amount_differs',
      },
      {
        job: '24-017',
        phase: '05-120',
        costType: 'M',
        description: 'Structural steel',
        procoreRevised: 4550025n,
        spectrumEstimated: null,
        variance: -4550025n,
        status: 'missing_in_spectrum',
      },
      {
        job: '24-017',
        phase: '99-000',
        costType: 'O',
        description: 'Contingency',
        procoreRevised: null,
        spectrumEstimated: 25000n,
        variance: 25000n,
        status: 'not_in_budget',
      },
    ],
    totals: { procoreRevised: 5750025n, spectrumEstimated: 1025000n, variance: -4725025n },
    explanation:
      "Spectrum kept its current estimates: the Job Cost option 'Current Estimate display only' may be on.",
  };
}

export const SAMPLES: { [K in EmailKind]: () => EmailModels[K] } = {
  'daily-summary': dailySummary,
  rejected: () => rejected(),
  're-sent': reSent,
  'failed-to-export': failedToExport,
  'out-of-sync': outOfSync,
};
