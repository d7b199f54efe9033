import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MappingStore } from '../../src/procore/mapping/mapping-store';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { ProcoreStandIn } from '../stand-ins/procore';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, JOB, resetSpectrum, SPECTRUM_JOBS, spectrumEnv, startSpectrum, waitForStatus } from '../export/export-kit';
import { FAST_PROCORE, PROCORE_JOBS, waitForIngestion, WEBHOOK_SECRET } from './procore-test-kit';
import { waitFor } from '../support/wait';

const PROJECT = 1090;

/**
 * From Procore to Spectrum and back: mapping corrections without a re-send (issue 8, "Mapping
 * corrections") and codes that differ only in case (issue 9.6), through the real export and
 * reconciliation against both stand-ins.
 */
describe('remap, and codes differing only in case, end to end', () => {
  const procore = new ProcoreStandIn();
  let spectrum: SpectrumStandIn;
  let t: TestApp;
  let dir: string;
  let mappingFile: string;
  let sender: UserWithToken;
  let approver: UserWithToken;

  beforeAll(async () => {
    await procore.start();
    spectrum = await startSpectrum();
    await resetDatabase();
    await resetRedis();
    dir = mkdtempSync(join(tmpdir(), 'remap-'));
    mappingFile = join(dir, 'mapping.yaml');
    writeFileSync(mappingFile, '');
    t = await startTestApp({
      env: { ...procore.environment(), ...spectrumEnv(spectrum), PROCORE_WEBHOOK_SECRET: WEBHOOK_SECRET, MAPPING_FILE: mappingFile },
      runWorkers: true,
      jobs: [...PROCORE_JOBS, ...SPECTRUM_JOBS],
      timings: FAST_PROCORE,
    });
  });
  afterAll(async () => {
    await t?.close();
    await spectrum?.stop();
    await procore.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await resetDatabase();
    procore.reset();
    resetSpectrum(spectrum);
    procore.addProject({ id: PROJECT, name: 'Remap Tower', project_number: JOB });
    sender = await createUser(t.em(), { erpPermission: 'standard' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });

  async function useMapping(text: string): Promise<void> {
    writeFileSync(mappingFile, text);
    const store = t.get(MappingStore);
    store.reload('test'); // the watcher would, within a second
    await waitFor(async () => store.version() === (await versionOf(text)), 'the mapping to be in force');
  }

  async function sendAndWait(): Promise<string> {
    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(PROJECT) });
    expect(res.status).toBe(202);
    expect(await waitForIngestion(res.body.id)).toMatchObject({ status: 'ready_to_export' });
    return res.body.id;
  }

  it('a cost-type mapping fixed in the file, then remap + retry → synced with the new cost types; rows written under the old mapping are zeroed', async () => {
    procore.addLineItemType({ code: 'CL', name: 'Crew Labor' });
    procore.addLineItemType({ code: 'BM', name: 'Bulk Material' });
    procore.setBudgetLines(PROJECT, [
      { costCode: '01-100', costCodeName: 'General Conditions', category: 'Crew Labor', originalBudget: '1000.00' },
      { costCode: '03-300', costCodeName: 'Concrete', category: 'Bulk Material', originalBudget: '5000.00' },
    ]);
    // The mapping sends Crew Labor as S (wrong, but on file in Spectrum); Bulk Material falls back to its code BM, which Spectrum does not have.
    await useMapping('costTypes:\n  Crew Labor: S\n');
    const id = await sendAndWait();
    await accept(t.url, approver.token, id);
    expect(await waitForStatus(id, ['failed_to_export', 'synced', 'out_of_sync'])).toBe('failed_to_export');
    expect(spectrum.getPhase(JOB, '01100', 'S')).toMatchObject({ currentEstCost: 1000_00n });

    // A retry alone would send the old cost types again; the file is fixed and the budget remapped.
    await useMapping('costTypes:\n  Crew Labor: L\n  Bulk Material: M\n');
    procore.clearLog();
    const remap = await api(t.url, approver.token).post(`/api/v1/budgets/${id}/remap`);
    expect(remap.status).toBe(200);
    expect(remap.body).toMatchObject({ id, status: 'failed_to_export', job: JOB, rowCount: 3, problemCount: 0, removedRows: 1 });
    expect(await sql(`select phase, cost_type, revised_estimate::text, removed from submission_row where submission_id = $1 order by position`, [id])).toEqual([
      { phase: '01100', cost_type: 'L', revised_estimate: '1000.00', removed: false },
      { phase: '03300', cost_type: 'M', revised_estimate: '5000.00', removed: false },
      { phase: '01100', cost_type: 'S', revised_estimate: '0.00', removed: true },
    ]);
    const [audit] = await sql(`select action, actor_id, note from audit_event where submission_id = $1 and action = 'remap'`, [id]);
    expect(audit).toMatchObject({ action: 'remap', actor_id: approver.user.id });
    expect(audit.note).toMatch(/^Mapped again with the mapping in force \([0-9a-f]{12}\): 2 Spectrum row\(s\) \(were 2\), 0 problem\(s\) \(were 0\); 1 row\(s\) written to Spectrum before/);
    // No Procore read, no re-send.
    expect(procore.requests).toEqual([]);
    expect(await sql(`select count(*)::int as count from submission`)).toEqual([{ count: 1 }]);

    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${id}/retry`)).status).toBe(202);
    expect(await waitForStatus(id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');
    expect(spectrum.getPhase(JOB, '01100', 'L')).toMatchObject({ currentEstCost: 1000_00n });
    expect(spectrum.getPhase(JOB, '03300', 'M')).toMatchObject({ currentEstCost: 5000_00n });
    expect(spectrum.getPhase(JOB, '01100', 'S')).toMatchObject({ currentEstCost: 0n });
  });

  it('remap needs the approver permission and a budget awaiting acceptance or failed to export', async () => {
    procore.setBudgetLines(PROJECT, [{ costCode: '01-100', costCodeName: 'General Conditions', category: 'L', originalBudget: '10.00' }]);
    const id = await sendAndWait();
    expect((await api(t.url, sender.token).post(`/api/v1/budgets/${id}/remap`)).status).toBe(403);
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/${id}/remap`)).body).toMatchObject({ status: 'ready_to_export', rowCount: 1, removedRows: 0 });
    await api(t.url, approver.token).post(`/api/v1/budgets/${id}/reject`, { reason: 'Not this one' });
    const refused = await api(t.url, approver.token).post(`/api/v1/budgets/${id}/remap`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe('Only a budget awaiting acceptance or failed to export can be remapped; this one is rejected');
    expect((await api(t.url, approver.token).post(`/api/v1/budgets/999999/remap`)).status).toBe(404);
  });

  it('cost types L and l, phases 0110a and 0110A: one Spectrum row each, summed, and the budget reaches synced', async () => {
    procore.addLineItemType({ code: 'L', name: 'Labor' });
    procore.addLineItemType({ code: 'l', name: 'Field labor' });
    procore.setBudgetLines(PROJECT, [
      { costCode: '0110a', costCodeName: 'Site prep', category: 'Labor', originalBudget: '100.00' },
      { costCode: '0110A', costCodeName: 'Site prep', category: 'Field labor', originalBudget: '250.50' },
      { costCode: '0110A', costCodeName: 'Site prep', category: 'Labor', originalBudget: '49.50' },
    ]);
    const id = await sendAndWait();
    expect(await sql(`select phase, cost_type, revised_estimate::text, line_count from submission_row where submission_id = $1`, [id])).toEqual([
      { phase: '0110A', cost_type: 'L', revised_estimate: '400.00', line_count: 3 },
    ]);
    await accept(t.url, approver.token, id);
    expect(await waitForStatus(id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');
    expect(spectrum.getPhase(JOB, '0110A', 'L')).toMatchObject({ currentEstCost: 400_00n });
  });
});

async function versionOf(text: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
