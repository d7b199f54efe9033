/**
 * Every problem of a submission's snapshot, one sentence each, in line order, each once: the
 * flagged rows' problems, then those of flagged lines that map to no row (a line that maps to a
 * row shares the row's). Reads only flagged lines and rows, through the partial indexes
 * `submission_row_flagged` and `submission_line_flagged`. `submission` is the SQL of the
 * submission id (a `?` parameter, or a column of an outer query); the statement yields one column,
 * `problem`. Used by SnapshotRepository.problems and SubmissionRepository.detailsHead.
 */
export function problemsSql(submission: string): string {
  return `select problem from (
         select p.problem, min(array[p.source, p.position, p.ordinality]) as first_seen
           from (
             select 0 as source, r.position, t.ordinality, t.value as problem
               from submission_row r cross join lateral jsonb_array_elements_text(r.problems) with ordinality t
              where r.submission_id = ${submission} and jsonb_array_length(r.problems) > 0
             union all
             select 1, l.position, t.ordinality, t.value
               from submission_line l cross join lateral jsonb_array_elements_text(l.problems) with ordinality t
              where l.submission_id = ${submission} and jsonb_array_length(l.problems) > 0 and l.row_id is null
           ) p
          group by p.problem
       ) q order by first_seen`;
}
