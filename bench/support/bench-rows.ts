/**
 * The benchmark budget's rows: `count` rows of one job, 5 cost types per phase, amounts in cents
 * spread deterministically. The SQL in `insertBenchRowsSql` writes the same rows to submission_row.
 */
export const BENCH_COST_TYPES = ['L', 'M', 'S', 'E', 'O'];

export interface BenchRow {
  phase: string;
  costType: string;
  originalCents: number;
  revisedCents: number;
}

export function benchRow(i: number): BenchRow {
  const originalCents = 1000 + ((i * 7919) % 900000);
  return {
    phase: String(Math.floor(i / 5) + 1).padStart(6, '0'),
    costType: BENCH_COST_TYPES[i % 5],
    originalCents,
    revisedCents: originalCents + ((i * 31) % 5000) - 2500,
  };
}

/** Cents as Spectrum numeric text: `-12.50`. */
export function centsText(cents: number): string {
  return `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
}

/**
 * Inserts the rows of `benchRow(0 … count-1)` for a submission. Parameters: $1 submission id, $2 job,
 * $3 count, $4 export_state.
 */
export const INSERT_BENCH_ROWS_SQL = `insert into submission_row (submission_id, position, job, phase, cost_type, description, original_budget,
                             revised_estimate, line_count, problems, export_state, export_attempts, written_at)
 select $1, i, $2, lpad((i / 5 + 1)::text, 6, '0'), (array['L','M','S','E','O'])[i % 5 + 1],
        'Benchmark phase ' || (i / 5 + 1),
        (1000 + (i * 7919) % 900000)::numeric / 100,
        (1000 + (i * 7919) % 900000 + (i * 31) % 5000 - 2500)::numeric / 100,
        1, '[]'::jsonb, $4, 0, case when $4 = 'written' then now() end
   from generate_series(0, $3::int - 1) as i`;
