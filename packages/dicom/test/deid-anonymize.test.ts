import { S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import {
  type AnonymizeOptions,
  anonymizeDicom,
  dateShiftDays,
  patientPseudonym,
  replacementUid,
  shiftDA,
  shiftDT,
} from '../src/deid/anonymize.js';
import {
  type DElement,
  EXPLICIT_LE,
  IMPLICIT_LE,
  makeElement,
  readDataset,
  readMetaGroup,
  stringValue,
} from '../src/deid/element-io.js';
import { containsBytes, FAKE, fixtureFile } from './deid-fixture.js';

const KEY = 'project-key-0123456789abcdef';
const OTHER_KEY = 'another-key-0123456789abcdef';

function parseOut(bytes: Uint8Array) {
  const meta = readMetaGroup(bytes, 132);
  const ts = stringValue(meta.elements.find((e) => e.tag === 0x00020010)!).replace(/\0/g, '');
  const enc =
    ts === '1.2.840.10008.1.2'
      ? IMPLICIT_LE
      : ts === '1.2.840.10008.1.2.2'
        ? { explicit: true, little: false }
        : EXPLICIT_LE;
  const ds = readDataset(bytes.subarray(meta.end), enc);
  const get = (tag: number, list: DElement[] = ds) => list.find((e) => e.tag === tag);
  const str = (tag: number, list: DElement[] = ds) => {
    const e = get(tag, list);
    return e ? stringValue(e).replace(/\0/g, '') : undefined;
  };
  return { meta: meta.elements, ds, get, str };
}

function run(file: Uint8Array, o: Partial<AnonymizeOptions> = {}) {
  const r = anonymizeDicom(file, { key: KEY, ...o });
  return { r, ...parseOut(r.bytes) };
}

const ALL_FAKE_TEXT = [
  FAKE.patientName,
  'Johnathan',
  FAKE.patientId,
  FAKE.birthDate,
  FAKE.accession,
  FAKE.institution,
  FAKE.studyDate,
  FAKE.seriesDate,
  'Strangelove',
  FAKE.studyUid,
  FAKE.seriesUid,
  FAKE.sopUid,
  FAKE.forUid,
  FAKE.refSopUid,
  FAKE.station,
  'HOSPITALPACS',
];

describe('anonymizeDicom: basic profile on a synthetic CT slice with fake PHI', () => {
  for (const [label, enc] of [
    ['explicit VR LE', EXPLICIT_LE],
    ['implicit VR LE', IMPLICIT_LE],
    ['explicit VR BE', { explicit: true, little: false }],
  ] as const) {
    it(`${label}: removes or replaces every identifier, keeps pixels and geometry bytes`, () => {
      const input = fixtureFile({ enc });
      const { r, get, str } = run(input);
      for (const v of ALL_FAKE_TEXT) expect(containsBytes(r.bytes, v), v).toBe(false);
      expect(str(0x00100020)).toBe(patientPseudonym(KEY, FAKE.patientId));
      expect(str(0x00100010)).toBe(patientPseudonym(KEY, FAKE.patientId));
      expect(str(0x00100030)).toBe(''); // birth date Z
      expect(str(0x00080050)).toBe(''); // accession Z
      expect(str(0x00080080)).toBe('ANONYMIZED'); // X/Z/D -> D
      expect(str(0x00080020)).toBe(''); // study date Z
      expect(str(0x00080021)).toBe('19000101'); // series date X/D -> D (dummy)
      expect(str(0x00181200)).toBe(''); // unlisted date: treated like Study Date
      expect(str(0x00080018)).toBe(replacementUid(KEY, FAKE.sopUid));
      expect(str(0x0020000d)).toBe(replacementUid(KEY, FAKE.studyUid));
      expect(str(0x00200052)).toBe(replacementUid(KEY, FAKE.forUid));
      // nested: UIDs inside Referenced Image Sequence (X/Z/U*) are replaced, SOP Class kept
      const item = get(0x00081140)!.items![0]!.elements;
      expect(str(0x00081155, item)).toBe(replacementUid(KEY, FAKE.refSopUid));
      expect(str(0x00081150, item)).toBe('1.2.840.10008.5.1.4.1.1.2');
      // private tags gone, creators too
      expect(get(0x00190010)).toBeUndefined();
      expect(get(0x0019100a)).toBeUndefined();
      expect(get(0x00291010)).toBeUndefined();
      // kept: geometry and pixel module bytes identical
      for (const t of [0x00200032, 0x00200037, 0x00280030, 0x00180050, 0x00280010, 0x00280011, 0x7fe00010]) {
        const a = readDataset(input.subarray(132 + readMetaGroup(input, 132).end - 132), enc).find((e) => e.tag === t)!;
        expect(Array.from(get(t)!.value), `tag ${t.toString(16)}`).toEqual(Array.from(a.value));
      }
      // de-identification record
      expect(str(0x00120062)).toBe('YES');
      expect(str(0x00120063)).toContain('PS3.15');
      const codes = get(0x00120064)!.items!.map((it) => str(0x00080100, it.elements));
      expect(codes).toEqual(['113100']);
      expect(str(0x00280303)).toBe('REMOVED');
      expect(r.transferSyntaxUID).toBe(
        enc.explicit ? (enc.little ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2.2') : '1.2.840.10008.1.2',
      );
      expect(r.quarantine).toBeUndefined();
      expect(r.report.privateRemoved).toBe(4);
    });
  }

  it('UIDs are consistent across files and runs with one key, unrelated with another', () => {
    const a = run(fixtureFile({ sopUid: '1.2.3.4.5.6.7.2001' }));
    const b = run(fixtureFile({ sopUid: '1.2.3.4.5.6.7.2002' }));
    const again = run(fixtureFile({ sopUid: '1.2.3.4.5.6.7.2001' }));
    const other = run(fixtureFile({ sopUid: '1.2.3.4.5.6.7.2001' }), { key: OTHER_KEY });
    expect(a.str(0x0020000d)).toBe(b.str(0x0020000d)); // same study stays linked
    expect(a.str(0x00080018)).not.toBe(b.str(0x00080018));
    expect(Array.from(again.r.bytes)).toEqual(Array.from(a.r.bytes)); // deterministic
    expect(other.str(0x0020000d)).not.toBe(a.str(0x0020000d));
    expect(other.str(0x00080018)).not.toBe(a.str(0x00080018));
    for (const r of [a, b, other]) {
      const uid = r.str(0x00080018)!;
      expect(uid).toMatch(/^2\.25\.[1-9]\d*$/);
      expect(uid.length).toBeLessThanOrEqual(64);
      // meta Media Storage SOP Instance UID follows the data set
      expect(stringValue(r.meta.find((e) => e.tag === 0x00020003)!).replace(/\0/g, '')).toBe(uid);
      expect(r.meta.find((e) => e.tag === 0x00020016)).toBeUndefined(); // source AE title dropped
    }
  });

  it('Retain Longitudinal (modified dates): per-patient whole-day shift keeps intervals', () => {
    const o = { options: ['retainLongModifiedDates'] as const };
    const a = run(fixtureFile({ studyDate: '20200315' }), o);
    const b = run(fixtureFile({ studyDate: '20210101', sopUid: '1.2.3.9' }), o);
    const c = run(fixtureFile({ studyDate: '20200315', patientId: 'someone-else' }), o);
    const days = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8)) / 86_400_000;
    const sa = a.str(0x00080020)!;
    const sb = b.str(0x00080020)!;
    expect(sa).toMatch(/^\d{8}$/);
    expect(sa).not.toBe('20200315');
    expect(days(sb) - days(sa)).toBe(days('20210101') - days('20200315'));
    // series date shifted by the same amount; time unchanged
    expect(days(a.str(0x00080021)!) - days(sa)).toBe(1);
    expect(a.str(0x00080030)).toBe('101112');
    expect(days(sa) - days('20200315')).toBe(dateShiftDays(KEY, FAKE.patientId));
    expect(c.str(0x00080020)).not.toBe(sa); // another patient, another shift (with this key)
    expect(a.str(0x00280303)).toBe('MODIFIED');
    expect(a.get(0x00120064)!.items!.map((it) => stringValue(it.elements[0]!))).toContain('113107');
    // birth date is still removed
    expect(a.str(0x00100030)).toBe('');
  });

  it('date shift helpers: leap years, ranges, DT keeps time and offset, partial dates refused', () => {
    expect(shiftDA('20200301', -1)).toBe('20200229');
    expect(shiftDA('20200101-20200131', -365)).toBe('20190101-20190131');
    expect(shiftDA('20200101\\20200102', -1)).toBe('20191231\\20200101');
    expect(shiftDA('2020', -1)).toBeUndefined();
    expect(shiftDA('20201341', -1)).toBeUndefined();
    expect(shiftDT('20200301123456.5+0100', -1)).toBe('20200229123456.5+0100');
    expect(shiftDT('2020', -1)).toBeUndefined();
    for (let i = 0; i < 50; i++) {
      const d = dateShiftDays(`key-${i}-0123456789abcdef`, 'p', 30);
      expect(d).toBeGreaterThanOrEqual(-30);
      expect(d).toBeLessThanOrEqual(-1);
    }
  });

  it('Retain Patient Characteristics / Device Identity / Institution Identity / UIDs keep their columns', () => {
    const pc = run(fixtureFile(), { options: ['retainPatientCharacteristics'] });
    expect(pc.str(0x00100040)).toBe('M');
    expect(pc.str(0x00101010)).toBe('059Y');
    const dev = run(fixtureFile(), { options: ['retainDeviceIdentity'] });
    expect(dev.str(0x00081010)).toBe(FAKE.station);
    expect(dev.str(0x00080080)).toBe('ANONYMIZED');
    const inst = run(fixtureFile(), { options: ['retainInstitutionIdentity'] });
    expect(inst.str(0x00080080)).toBe(FAKE.institution);
    const uids = run(fixtureFile(), { options: ['retainUIDs'] });
    expect(uids.str(0x00080018)).toBe(FAKE.sopUid);
    expect(uids.str(0x0020000d)).toBe(FAKE.studyUid);
    expect(uids.str(0x00081155, uids.get(0x00081140)!.items![0]!.elements)).toBe(FAKE.refSopUid);
    expect(uids.str(0x00100010)).not.toBe(FAKE.patientName);
  });

  it('Retain Safe Private keeps only safe-listed private attributes (and their creator)', () => {
    const { get, str, r } = run(fixtureFile(), { options: ['retainSafePrivate'] });
    expect(str(0x00190010)).toBe('SIEMENS MR HEADER');
    expect(get(0x0019100a)).toBeDefined(); // NumberOfImagesInMosaic
    expect(get(0x00191020)).toBeUndefined(); // not on the list
    expect(get(0x00291010)).toBeUndefined(); // block without creator
    expect(containsBytes(r.bytes, 'Johnathan')).toBe(false);
    expect(r.report.privateKept).toBe(1);
  });

  it('Clean Descriptors keeps a safe description and empties one naming the patient', () => {
    const { str, r } = run(fixtureFile(), { options: ['cleanDescriptors'] });
    expect(str(0x0008103e)).toBe('AX 5mm SOFT');
    expect(str(0x00081030)).toBe('');
    expect(containsBytes(r.bytes, 'Johnathan')).toBe(false);
  });

  it('burned-in text: quarantines SC/US/BurnedInAnnotation=YES; black-out releases native images', () => {
    expect(run(fixtureFile({ burnedIn: 'YES' })).r.quarantine).toMatch(/Burned In Annotation/);
    expect(run(fixtureFile({ sopClass: '1.2.840.10008.5.1.4.1.1.7' })).r.quarantine).toMatch(/secondary capture/);
    expect(run(fixtureFile({ modality: 'US' })).r.quarantine).toMatch(/ultrasound/);
    expect(run(fixtureFile({ burnedIn: 'YES' }), { quarantineBurnedIn: false }).r.quarantine).toBeUndefined();
    const input = fixtureFile({ burnedIn: 'YES' });
    const before = run(input).get(0x7fe00010)!.value;
    const { r, get, str } = run(input, { blackout: [{ x: 1, y: 0, width: 2, height: 2 }] });
    expect(r.quarantine).toBeUndefined();
    const px = new DataView(get(0x7fe00010)!.value.buffer, get(0x7fe00010)!.value.byteOffset);
    const orig = new DataView(before.buffer, before.byteOffset);
    let min = 65535;
    for (let i = 0; i < 12; i++) min = Math.min(min, orig.getUint16(i * 2, true));
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        const i = (y * 4 + x) * 2;
        const inside = x >= 1 && x < 3 && y < 2;
        expect(px.getUint16(i, true)).toBe(inside ? min : orig.getUint16(i, true));
      }
    }
    expect(str(0x00280301)).toBe('NO');
    expect(get(0x00120064)!.items!.map((it) => stringValue(it.elements[0]!))).toContain('113101');
  });

  it('patient ID mapping: given entries are used, new ones are added', () => {
    const map = new Map([[FAKE.patientId, 'SUBJ-001']]);
    const { str } = run(fixtureFile(), { patientIdMap: map });
    expect(str(0x00100020)).toBe('SUBJ-001');
    const map2 = new Map<string, string>();
    run(fixtureFile({ patientId: 'X-42' }), { patientIdMap: map2 });
    expect(map2.get('X-42')).toBe(patientPseudonym(KEY, 'X-42'));
  });

  it('keeps an earlier de-identification record and adds its own codes', () => {
    const prior = makeElement(0x00120063, 'LO', 'EARLIER TOOL');
    const { str } = run(fixtureFile({ extra: [prior] }));
    expect(str(0x00120063)!.split('\\')[0]).toBe('EARLIER TOOL');
  });

  it('rejects bad input with a clear S2SError and never returns partial output', () => {
    const good = fixtureFile();
    expect(() => anonymizeDicom(good, { key: 'short' })).toThrow(/shorter than 16 bytes/);
    expect(() => anonymizeDicom(new TextEncoder().encode('hello, not dicom at all, really not'), { key: KEY })).toThrow(
      S2SError,
    );
    for (const cut of [140, 300, good.length - 5]) {
      let err: unknown;
      try {
        anonymizeDicom(good.subarray(0, cut), { key: KEY });
      } catch (e) {
        err = e;
      }
      expect(err, `cut at ${cut}`).toBeInstanceOf(S2SError);
      expect((err as S2SError).code).toMatch(/TRUNCATED_FILE|MALFORMED_FILE|UNSUPPORTED_FORMAT/);
      expect((err as S2SError).message).not.toContain(FAKE.patientId);
    }
    expect(() =>
      anonymizeDicom(good, { key: KEY, options: ['retainLongFullDates', 'retainLongModifiedDates'] }),
    ).toThrow(/exclude each other/);
  });
});
