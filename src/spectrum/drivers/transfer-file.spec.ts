import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { encodeWindows1252, renderTransferFile, TransferFileError, transferFileName, writeTransferFile } from './transfer-file';

describe('encodeWindows1252', () => {
  it('maps ASCII, Latin-1 and the 0x80–0x9F table; anything else becomes ?', () => {
    expect([...encodeWindows1252('A é ÿ € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ')]).toEqual([
      0x41, 0x20, 0xe9, 0x20, 0xff, 0x20, 0x80, 0x20, 0x82, 0x20, 0x83, 0x20, 0x84, 0x20, 0x85, 0x20, 0x86, 0x20,
      0x87, 0x20, 0x88, 0x20, 0x89, 0x20, 0x8a, 0x20, 0x8b, 0x20, 0x8c, 0x20, 0x8e, 0x20, 0x91, 0x20, 0x92, 0x20,
      0x93, 0x20, 0x94, 0x20, 0x95, 0x20, 0x96, 0x20, 0x97, 0x20, 0x98, 0x20, 0x99, 0x20, 0x9a, 0x20, 0x9b, 0x20,
      0x9c, 0x20, 0x9e, 0x20, 0x9f,
    ]);
    // Outside the code page: CJK, an emoji (one ? for the surrogate pair), a C1 control, Ω.
    expect(encodeWindows1252('漢😀\u0081Ω').toString('latin1')).toBe('????');
  });

  it('composes decomposed accents before encoding', () => {
    expect([...encodeWindows1252('e\u0301')]).toEqual([0xe9]);
  });

  it('writes one ? for a lone surrogate too', () => {
    expect([...encodeWindows1252('a\uD800b')]).toEqual([0x61, 0x3f, 0x62]);
  });
});

describe('renderTransferFile', () => {
  it('writes a * record then one 15-field P record per row, CRLF, Windows-1252', () => {
    const bytes = renderTransferFile({
      jobNumber: '26-101',
      jobDescription: 'Riverside Medical Office Building',
      rows: [
        { phaseCode: '01000', description: 'General Requirements', costType: 'L', estimate: 4850000n },
        { phaseCode: '03300', description: 'Béton coulé', costType: 'M', estimate: -1205n },
        { phaseCode: '08100', description: 'Doors, "Frames" & Hardware', costType: 'S', estimate: 0n, unitOfMeasure: 'EA' },
        { phaseCode: '09000', description: 'Finishes 漢', costType: 'O', estimate: 12n },
      ],
    });
    const expected =
      '*,26-101,Riverside Medical Office Building\r\n' +
      'P,01000,General Requirements,L,,,48500.00,,,,,,,,\r\n' +
      'P,03300,B\xe9ton coul\xe9,M,,,-12.05,,,,,,,,\r\n' +
      'P,08100,"Doors, ""Frames"" & Hardwar",S,,EA,0.00,,,,,,,,\r\n' +
      'P,09000,Finishes ?,O,,,0.12,,,,,,,,\r\n';
    expect(bytes.equals(Buffer.from(expected, 'latin1'))).toBe(true);
    for (const line of expected.split('\r\n').filter((l) => l.startsWith('P,01000'))) {
      expect(line.split(',')).toHaveLength(15);
    }
  });

  it('keeps each record on one line and cuts descriptions at 25 characters', () => {
    const bytes = renderTransferFile({
      jobNumber: '26-101',
      jobDescription: 'Line\r\nbreak',
      rows: [{ phaseCode: '1', description: 'A description that is much too long\n', costType: 'L', estimate: 100n }],
    });
    expect(bytes.toString('latin1')).toBe('*,26-101,Line break\r\nP,1,A description that is muc,L,,,1.00,,,,,,,,\r\n');
  });

  it('names every row that breaks a limit', () => {
    const render = () =>
      renderTransferFile({
        jobNumber: '26-101-EXTRA',
        jobDescription: 'x',
        rows: [
          { phaseCode: '123456789012345678901', description: 'x', costType: 'LABR', estimate: 100n },
          { phaseCode: '2', description: 'x', costType: 'L', estimate: 1_000_000_000_00n },
        ],
      });
    expect(render).toThrow(TransferFileError);
    expect(render).toThrow(
      'cannot write the transfer file: job number "26-101-EXTRA" exceeds 10 characters; ' +
        'row 1 (123456789012345678901/LABR): phase exceeds 20 characters; ' +
        'row 1 (123456789012345678901/LABR): cost type exceeds 3 characters; ' +
        'row 2 (2/L): amount 1000000000.00 exceeds 12 characters',
    );
  });
});

describe('writeTransferFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'transfer-file-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const job = {
    jobNumber: '26-101',
    jobDescription: 'Riverside',
    rows: [{ phaseCode: '01000', description: 'General', costType: 'L', estimate: 100n }],
  };

  it('writes <job>_<submission>.txt atomically, leaving no temporary file', async () => {
    await writeFile(path.join(dir, '26-101_42.txt'), 'old content');
    const written = await writeTransferFile(dir, job, '42');
    expect(written).toEqual({ path: path.join(dir, '26-101_42.txt'), fileName: '26-101_42.txt', bytes: 54 });
    expect((await readFile(written.path)).toString('latin1')).toBe(
      '*,26-101,Riverside\r\nP,01000,General,L,,,1.00,,,,,,,,\r\n',
    );
    expect(await readdir(dir)).toEqual(['26-101_42.txt']);
  });

  it('writes nothing when a row is invalid', async () => {
    await expect(writeTransferFile(dir, { ...job, rows: [{ ...job.rows[0], costType: 'LONG' }] }, '42')).rejects.toThrow(
      TransferFileError,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('makes file names safe', () => {
    expect(transferFileName('26/101', 'a:b')).toBe('26_101_a_b.txt');
    expect(() => transferFileName('..', '1')).toThrow(TransferFileError);
  });
});
