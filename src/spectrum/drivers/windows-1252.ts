/**
 * Windows-1252 encoding, done here because Node's Buffer has no encoder for it. Bytes 0x00–0x7F and
 * 0xA0–0xFF are the same code points as Unicode; 0x80–0x9F hold the characters below. Anything else
 * becomes `?`.
 */
const HIGH: ReadonlyArray<[codePoint: number, byte: number]> = [
  [0x20ac, 0x80], [0x201a, 0x82], [0x0192, 0x83], [0x201e, 0x84], [0x2026, 0x85], [0x2020, 0x86],
  [0x2021, 0x87], [0x02c6, 0x88], [0x2030, 0x89], [0x0160, 0x8a], [0x2039, 0x8b], [0x0152, 0x8c],
  [0x017d, 0x8e], [0x2018, 0x91], [0x2019, 0x92], [0x201c, 0x93], [0x201d, 0x94], [0x2022, 0x95],
  [0x2013, 0x96], [0x2014, 0x97], [0x02dc, 0x98], [0x2122, 0x99], [0x0161, 0x9a], [0x203a, 0x9b],
  [0x0153, 0x9c], [0x017e, 0x9e], [0x0178, 0x9f],
];
const TO_BYTE = new Map<number, number>(HIGH);
const QUESTION_MARK = 0x3f;

/** Encodes text (normalised to NFC first, so `e` + combining accent becomes `é`). */
export function encodeWindows1252(text: string): Buffer {
  const normalised = text.normalize('NFC');
  const bytes = Buffer.allocUnsafe(normalised.length);
  let length = 0;
  for (const char of normalised) {
    const code = char.codePointAt(0)!;
    if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) bytes[length++] = code;
    else bytes[length++] = TO_BYTE.get(code) ?? QUESTION_MARK;
  }
  return bytes.subarray(0, length);
}
