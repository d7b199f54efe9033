/**
 * The Spectrum stand-in in a process of its own, so its XML work does not share the event loop
 * (or the CPU time) of the connector being measured. Driven over IPC by the benchmark:
 * start → {url}; seed (a job and its cost types); seedRows (the benchmark rows, as exported); stats → call counts and peak concurrency; stop.
 */
import { SpectrumStandIn, SpectrumStandInOptions } from '../../test/stand-ins/spectrum';
import { benchRow, centsText } from './bench-rows';

type Command =
  | { type: 'start'; options: SpectrumStandInOptions }
  | { type: 'seed'; jobNumber: string; costTypes: string[] }
  | { type: 'seedRows'; jobNumber: string; rows: number }
  | { type: 'stats' }
  | { type: 'clear' }
  | { type: 'stop' };

let standIn: SpectrumStandIn | undefined;

process.on('message', (command: Command) => {
  void handle(command).then(
    (result) => process.send!({ ok: true, result }),
    (error: unknown) => process.send!({ ok: false, error: (error as Error).message }),
  );
});

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'start':
      standIn = await SpectrumStandIn.start(command.options);
      return { url: standIn.url };
    case 'seed':
      standIn!.addJob({ jobNumber: command.jobNumber, description: 'Benchmark job' });
      for (const code of command.costTypes) standIn!.addCostType(code);
      return {};
    case 'seedRows':
      // Spectrum already holds every benchmark row at its revised estimate (as after an export).
      for (let i = 0; i < command.rows; i++) {
        const row = benchRow(i);
        standIn!.setPhase({
          jobNumber: command.jobNumber,
          phaseCode: row.phase,
          costType: row.costType,
          description: `Benchmark phase ${Number(row.phase)}`,
          originalEstCost: centsText(row.originalCents),
          currentEstCost: centsText(row.revisedCents),
        });
      }
      return { rows: standIn!.listPhases(command.jobNumber).length };
    case 'stats': {
      const outcomes: Record<string, number> = {};
      for (const r of standIn!.recorded) outcomes[`${r.service}:${r.outcome}`] = (outcomes[`${r.service}:${r.outcome}`] ?? 0) + 1;
      const counts = [...standIn!.addPhaseCountsByRow().values()];
      return {
        peakConcurrent: standIn!.peakConcurrent,
        outcomes,
        addPhaseRows: counts.length,
        addPhaseMaxPerRow: counts.reduce((a, b) => Math.max(a, b), 0),
        rows: standIn!.listPhases().length,
      };
    }
    case 'clear':
      standIn!.clearRecords();
      return {};
    case 'stop':
      await standIn?.stop();
      setImmediate(() => process.exit(0));
      return {};
  }
}
