// Builds small DICOM files with fake PHI for the de-identification tests.
import {
  type DElement,
  type DItem,
  type Encoding,
  EXPLICIT_LE,
  makeElement,
  writeElements,
} from '../src/deid/element-io.js';

export const FAKE = {
  patientName: 'Doe^Johnathan',
  patientId: 'PID-778899',
  birthDate: '19610412',
  accession: 'ACC123456',
  institution: 'Saint Elsewhere Hospital',
  studyDate: '20200315',
  seriesDate: '20200316',
  referring: 'Strangelove^Merkwurdig',
  studyUid: '1.2.3.4.5.6.7.1001',
  seriesUid: '1.2.3.4.5.6.7.1002',
  sopUid: '1.2.3.4.5.6.7.1003',
  forUid: '1.2.3.4.5.6.7.1004',
  refSopUid: '1.2.3.4.5.6.7.9999',
  station: 'CT-ROOM-7',
  description: 'Head for Johnathan',
};

function us(v: number, little = true): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, little);
  return b;
}

export interface FixtureOptions {
  enc?: Encoding;
  patientId?: string;
  studyDate?: string;
  sopUid?: string;
  sopClass?: string;
  modality?: string;
  burnedIn?: string;
  extra?: DElement[];
}

/** Top-level elements of a 4x3 MONOCHROME2 16-bit CT slice with fake PHI, a nested sequence and private tags. */
export function fixtureElements(o: FixtureOptions = {}): DElement[] {
  const little = (o.enc ?? EXPLICIT_LE).little;
  const pixels = new Uint8Array(4 * 3 * 2);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + 11) & 0xff;
  const refItem: DItem = {
    undefinedLength: true,
    elements: [
      makeElement(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
      makeElement(0x00081155, 'UI', FAKE.refSopUid),
    ],
  };
  const els: DElement[] = [
    makeElement(0x00080005, 'CS', 'ISO_IR 100'),
    makeElement(0x00080016, 'UI', o.sopClass ?? '1.2.840.10008.5.1.4.1.1.2'),
    makeElement(0x00080018, 'UI', o.sopUid ?? FAKE.sopUid),
    makeElement(0x00080020, 'DA', o.studyDate ?? FAKE.studyDate),
    makeElement(0x00080021, 'DA', FAKE.seriesDate),
    makeElement(0x00080030, 'TM', '101112'),
    makeElement(0x00080050, 'SH', FAKE.accession),
    makeElement(0x00080060, 'CS', o.modality ?? 'CT'),
    makeElement(0x00080080, 'LO', FAKE.institution),
    makeElement(0x00080090, 'PN', FAKE.referring),
    makeElement(0x00081010, 'SH', FAKE.station),
    makeElement(0x00081030, 'LO', FAKE.description),
    makeElement(0x0008103e, 'LO', 'AX 5mm SOFT'),
    makeElement(0x00081140, 'SQ', new Uint8Array(0), [refItem]),
    makeElement(0x00100010, 'PN', FAKE.patientName),
    makeElement(0x00100020, 'LO', o.patientId ?? FAKE.patientId),
    makeElement(0x00100030, 'DA', FAKE.birthDate),
    makeElement(0x00100040, 'CS', 'M'),
    makeElement(0x00101010, 'AS', '059Y'),
    makeElement(0x00180050, 'DS', '1.25'),
    makeElement(0x00181200, 'DA', '20200101'), // Date of Last Calibration: not in Table E.1-1
    makeElement(0x00190010, 'LO', 'SIEMENS MR HEADER'),
    makeElement(0x0019100a, 'US', us(12, little)),
    makeElement(0x00191020, 'LO', FAKE.patientName),
    makeElement(0x0020000d, 'UI', FAKE.studyUid),
    makeElement(0x0020000e, 'UI', FAKE.seriesUid),
    makeElement(0x00200032, 'DS', '-120.5\\-99.25\\33'),
    makeElement(0x00200037, 'DS', '1\\0\\0\\0\\1\\0'),
    makeElement(0x00200052, 'UI', FAKE.forUid),
    makeElement(0x00280002, 'US', us(1, little)),
    makeElement(0x00280004, 'CS', 'MONOCHROME2'),
    makeElement(0x00280010, 'US', us(3, little)),
    makeElement(0x00280011, 'US', us(4, little)),
    makeElement(0x00280030, 'DS', '0.5\\0.75'),
    makeElement(0x00280100, 'US', us(16, little)),
    makeElement(0x00280101, 'US', us(16, little)),
    makeElement(0x00280102, 'US', us(15, little)),
    makeElement(0x00280103, 'US', us(0, little)),
    makeElement(0x00291010, 'LO', 'PRIVATE NOTE ABOUT Johnathan'),
    makeElement(0x7fe00010, 'OW', pixels),
  ];
  if (o.burnedIn) els.push(makeElement(0x00280301, 'CS', o.burnedIn));
  if (o.extra) els.push(...o.extra);
  // 16-bit values need the right byte order in big endian files
  return els.sort((a, b) => a.tag - b.tag);
}

const TS: Record<string, string> = {
  'true,true': '1.2.840.10008.1.2.1',
  'false,true': '1.2.840.10008.1.2',
  'true,false': '1.2.840.10008.1.2.2',
};

/** A Part 10 file (preamble, meta, data set) in the given encoding. */
export function fixtureFile(o: FixtureOptions = {}): Uint8Array {
  const enc = o.enc ?? EXPLICIT_LE;
  const meta = writeElements(
    [
      makeElement(0x00020001, 'OB', new Uint8Array([0, 1])),
      makeElement(0x00020002, 'UI', o.sopClass ?? '1.2.840.10008.5.1.4.1.1.2'),
      makeElement(0x00020003, 'UI', o.sopUid ?? FAKE.sopUid),
      makeElement(0x00020010, 'UI', TS[`${enc.explicit},${enc.little}`]!),
      makeElement(0x00020016, 'AE', 'HOSPITALPACS'),
    ],
    EXPLICIT_LE,
  );
  const gl = new Uint8Array(4);
  new DataView(gl.buffer).setUint32(0, meta.length, true);
  const head = writeElements([makeElement(0x00020000, 'UL', gl)], EXPLICIT_LE);
  const ds = writeElements(fixtureElements(o), enc);
  const out = new Uint8Array(132 + head.length + meta.length + ds.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(head, 132);
  out.set(meta, 132 + head.length);
  out.set(ds, 132 + head.length + meta.length);
  return out;
}

/** True if `needle` occurs in `hay` as bytes. */
export function containsBytes(hay: Uint8Array, needle: string | Uint8Array): boolean {
  const n = typeof needle === 'string' ? new TextEncoder().encode(needle) : needle;
  if (n.length === 0) return false;
  const first = n[0]!;
  outer: for (let i = hay.indexOf(first); i >= 0 && i <= hay.length - n.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}
