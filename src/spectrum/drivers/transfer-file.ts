import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as iconv from 'iconv-lite';
import { Cents, formatMoney } from '../../common/money';
import { cutDescription } from '../client/spectrum-limits';

/**
 * Spectrum's standard transfer file (Project Setup > Job Setup > Import), the fallback transport
 * when Data Exchange is not licensed. One job per file: a `*` job record, then one `P` record per
 * row whose extension amount is the revised estimate. Comma-delimited, CRLF, Windows-1252.
 */

export interface TransferFileRow {
  phaseCode: string;
  description: string;
  costType: string;
  /** The revised estimate: the record's extension amount. */
  estimate: Cents;
  quantity?: string;
  unitOfMeasure?: string;
  hours?: string;
  billingItem?: string;
  alternatePhase?: string;
  projectedQuantity?: string;
  workCompCode?: string;
  vendorCode?: string;
  subcontractName?: string;
  costCenter?: string;
}

export interface TransferFileJob {
  jobNumber: string;
  jobDescription: string;
  rows: TransferFileRow[];
}

export interface WrittenTransferFile {
  path: string;
  fileName: string;
  bytes: number;
}

export class TransferFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot write the transfer file: ${problems.join('; ')}`);
    this.name = 'TransferFileError';
  }
}

const LIMITS: Array<[keyof TransferFileRow, string, number]> = [
  ['phaseCode', 'phase', 20],
  ['costType', 'cost type', 3],
  ['unitOfMeasure', 'unit of measure', 3],
  ['billingItem', 'billing item', 10],
  ['alternatePhase', 'alternate phase', 12],
  ['workCompCode', "worker's comp code", 4],
  ['vendorCode', 'vendor code', 10],
  ['subcontractName', 'subcontract name', 30],
  ['costCenter', 'cost center', 10],
];
const AMOUNT_MAX = 12;
const JOB_MAX = 10;

/** `<job>_<submission id>.txt`; characters a file name cannot hold become `_`. */
export function transferFileName(jobNumber: string, submissionId: string): string {
  return `${safeNamePart(jobNumber)}_${safeNamePart(submissionId)}.txt`;
}

/** The file's exact bytes. Throws TransferFileError naming every row that breaks a limit. */
export function renderTransferFile(job: TransferFileJob): Buffer {
  const problems: string[] = [];
  const jobNumber = clean(job.jobNumber);
  if (!jobNumber) problems.push('job number is empty');
  if (jobNumber.length > JOB_MAX) problems.push(`job number "${jobNumber}" exceeds ${JOB_MAX} characters`);
  const lines = [record(['*', jobNumber, clean(job.jobDescription)])];
  job.rows.forEach((row, index) => {
    const where = `row ${index + 1} (${row.phaseCode}/${row.costType})`;
    if (!clean(row.phaseCode)) problems.push(`${where}: phase is empty`);
    if (!clean(row.costType)) problems.push(`${where}: cost type is empty`);
    for (const [key, label, max] of LIMITS) {
      const value = clean(String(row[key] ?? ''));
      if (value.length > max) problems.push(`${where}: ${label} exceeds ${max} characters`);
    }
    const amount = formatMoney(row.estimate);
    if (amount.length > AMOUNT_MAX) problems.push(`${where}: amount ${amount} exceeds ${AMOUNT_MAX} characters`);
    lines.push(
      record([
        'P',
        clean(row.phaseCode),
        cutDescription(clean(row.description)),
        clean(row.costType),
        clean(row.quantity ?? ''),
        clean(row.unitOfMeasure ?? ''),
        amount,
        clean(row.hours ?? ''),
        clean(row.billingItem ?? ''),
        clean(row.alternatePhase ?? ''),
        clean(row.projectedQuantity ?? ''),
        clean(row.workCompCode ?? ''),
        clean(row.vendorCode ?? ''),
        clean(row.subcontractName ?? ''),
        clean(row.costCenter ?? ''),
      ]),
    );
  });
  if (problems.length) throw new TransferFileError(problems);
  return encodeWindows1252(lines.join(''));
}

/** Characters outside the Basic Multilingual Plane (emoji, rare CJK): one UTF-16 surrogate pair each. */
const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;

/**
 * Windows-1252 by iconv-lite. The text is normalised to NFC first (`e` + combining accent becomes
 * `é`, which the code page has); a character outside the code page becomes `?` — iconv-lite's
 * default — and one outside the BMP is made one `?` beforehand, since iconv-lite's single-byte
 * encoder would write one `?` per surrogate half.
 */
export function encodeWindows1252(text: string): Buffer {
  return iconv.encode(text.normalize('NFC').replace(ASTRAL, '?'), 'windows-1252');
}

/**
 * Writes the file atomically into `dir`: a temporary file in the same folder, fsync, rename over
 * the final name, fsync of the folder. A reader sees the whole file or none of it.
 */
export async function writeTransferFile(
  dir: string,
  job: TransferFileJob,
  submissionId: string,
): Promise<WrittenTransferFile> {
  const bytes = renderTransferFile(job);
  const fileName = transferFileName(job.jobNumber, submissionId);
  const finalPath = path.join(dir, fileName);
  const tempPath = path.join(dir, `.${fileName}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(tempPath, 'wx', 0o644);
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tempPath, finalPath);
  } catch (error) {
    await fs.rm(tempPath, { force: true });
    throw error;
  }
  await syncDirectory(dir);
  return { path: finalPath, fileName, bytes: bytes.length };
}

/** One record: fields joined by commas, CRLF-terminated. */
function record(fields: string[]): string {
  return fields.map(quote).join(',') + '\r\n';
}

/** A field holding a comma or a double quote is wrapped in double quotes, inner quotes doubled. */
function quote(field: string): string {
  return /[",]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

/** Line breaks and tabs become spaces, other control characters go: one record stays one line. */
function clean(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();
}

function safeNamePart(text: string): string {
  const safe = text.trim().replace(/[\\/:*?"<>|\u0000-\u001f]/g, '_');
  if (!safe || /^\.+$/.test(safe)) throw new TransferFileError([`"${text}" cannot be part of a file name`]);
  return safe;
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}
