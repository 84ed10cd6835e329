// parseDicom: header facts, encodings (no preamble, no meta, gzip, deflate, big endian),
// enhanced multi-frame per-frame geometry against dcm2niix references, mosaic facts, privacy.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { S2SError } from '@slice2solid/core';
import { gunzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData, itData } from '../../../test-utils/shared-data.js';
import { csaNumbers, readCsa } from '../src/csa.js';
import { dicomParser, privateTag } from '../src/dataset.js';
import { type DicomFile, parseDicom, transferSyntaxInfo } from '../src/index.js';

function bytes(...parts: string[]): Uint8Array {
  return new Uint8Array(readFileSync(dataPath(...parts)));
}
function load(...parts: string[]): DicomFile {
  return parseDicom(bytes(...parts), { name: parts.join('/') });
}
function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(S2SError);
    return (e as S2SError).code;
  }
  return 'OK';
}

/** Offset of the data set after preamble + File Meta Information (uses (0002,0000) group length). */
function dataSetStart(b: Uint8Array): number {
  expect(String.fromCharCode(...b.subarray(128, 132))).toBe('DICM');
  const groupLength = new DataView(b.buffer, b.byteOffset).getUint32(132 + 8, true);
  return 132 + 12 + groupLength;
}

/** Builds Part 10 bytes: preamble, DICM, meta elements (explicit VR LE), then `body`. */
function part10(meta: { element: number; vr: string; value: string }[], body: Uint8Array): Uint8Array {
  const chunks: number[] = [];
  for (const m of meta) {
    let v = [...m.value].map((c) => c.charCodeAt(0));
    if (v.length % 2) v = [...v, 0];
    chunks.push(
      0x02,
      0x00,
      m.element & 0xff,
      m.element >> 8,
      m.vr.charCodeAt(0),
      m.vr.charCodeAt(1),
      v.length & 0xff,
      v.length >> 8,
      ...v,
    );
  }
  const out = new Uint8Array(132 + chunks.length + body.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(chunks, 132);
  out.set(body, 132 + chunks.length);
  return out;
}

/** NIfTI-1 sform rows (srow_x/y/z) from a .nii or .nii.gz. */
function sform(...parts: string[]): number[][] {
  let b = bytes(...parts);
  if (b[0] === 0x1f && b[1] === 0x8b) b = gunzipSync(b);
  const dv = new DataView(b.buffer, b.byteOffset);
  return [280, 296, 312].map((o) => [0, 1, 2, 3].map((k) => dv.getFloat32(o + 4 * k, true)));
}

describe('transfer syntax table', () => {
  it('knows the encapsulated and lossy syntaxes', () => {
    expect(transferSyntaxInfo('1.2.840.10008.1.2')).toMatchObject({ explicitVR: false, encapsulated: false });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.2')).toMatchObject({ bigEndian: true });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.91')).toMatchObject({ codec: 'jpeg2000', lossy: true });
    expect(transferSyntaxInfo('1.2.840.10008.1.2.4.201')).toMatchObject({ codec: 'htj2k', lossy: false });
    expect(transferSyntaxInfo('1.2.3.4')).toBeUndefined();
  });
});

describeData('classic files', () => {
  itData('CTImage.dcm: geometry, rescale and pixel description', () => {
    const f = load('dicom-ct-transfer-syntaxes', 'dicom', 'CTImage.dcm');
    expect(f).toMatchObject({
      transferSyntaxUID: '1.2.840.10008.1.2',
      rows: 512,
      columns: 512,
      samplesPerPixel: 1,
      bitsAllocated: 16,
      bitsStored: 16,
      pixelRepresentation: 1,
      photometricInterpretation: 'MONOCHROME2',
      numberOfFrames: 1,
      modality: 'CT',
      lossyCompression: false,
    });
    expect(f.frames).toHaveLength(1);
    expect(f.frames[0]!.rescaleIntercept).toBe(-1024);
    expect(f.frames[0]!.rescaleSlope).toBe(1);
    expect(f.frames[0]!.orientation).toBeDefined();
    expect(f.frames[0]!.position).toBeDefined();
  });

  itData('GE gantry tilt is reported from (0018,1120)', () => {
    const dir = dataPath('dicom-ct-gantry-tilt-ge', 'dicom');
    const csv = readFileSync(dataPath('dicom-ct-gantry-tilt-ge', 'slice_geometry_pydicom.csv'), 'utf8').split(/\r?\n/);
    const head = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    const file = row[head.indexOf('file')]!;
    const f = parseDicom(new Uint8Array(readFileSync(`${dir}/${file}`)), { name: file });
    const tiltCol = head.findIndex((h) => /tilt/i.test(h));
    expect(tiltCol).toBeGreaterThanOrEqual(0);
    expect(f.gantryTilt).toBeCloseTo(Number(row[tiltCol]), 6);
    expect(Math.abs(f.gantryTilt!)).toBeCloseTo(18.5, 1);
  });

  itData('Philips private scale slope (2005,100E) is read, not applied', () => {
    const dir = 'dicom-mr-philips-classic';
    const json = JSON.parse(readFileSync(dataPath(dir, 'ref-dcm_qa_philips', 'EPI_asc_CLEAR_201.json'), 'utf8'));
    const files = readdirDicom(dataPath(dir, 'dicom'));
    const f = parseDicom(new Uint8Array(readFileSync(files[0]!)));
    expect(f.philipsScaleSlope).toBeCloseTo(json.PhilipsScaleSlope, 4);
    expect(f.frames[0]!.rescaleSlope).toBeCloseTo(json.PhilipsRescaleSlope, 4);
  });

  itData('lossy flag: JPEG baseline files are lossy, uncompressed ones are not', () => {
    expect(load('dicom-deid-fake-phi-cookies', 'cookie-1', 'images', 'image1.dcm').lossyCompression).toBe(true);
    expect(load('dicom-ct-transfer-syntaxes', 'dicom', 'CTImage.dcm').lossyCompression).toBe(false);
  });
});

function readdirDicom(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = `${dir}/${n}`;
    if (statSync(p).isDirectory()) out.push(...readdirDicom(p));
    else out.push(p);
  }
  return out;
}

describeData('encodings', () => {
  itData('no preamble and no meta: implicit LE, explicit LE and explicit BE are recognised', () => {
    const R = 'dicom-robustness/pydicom';
    const ref = load(R, 'MR_small.dcm').decodeFrame(0).data;
    for (const [name, ts] of [
      ['MR_small_implicit.dcm', '1.2.840.10008.1.2'],
      ['MR_small.dcm', '1.2.840.10008.1.2.1'],
      ['MR_small_bigendian.dcm', '1.2.840.10008.1.2.2'],
    ] as const) {
      const b = bytes(R, name);
      const bare = b.slice(dataSetStart(b));
      const f = parseDicom(bare, { name: `${name} without meta` });
      expect(f.transferSyntaxUID).toBe(ts);
      expect(Array.from(f.decodeFrame(0).data)).toEqual(Array.from(ref));
    }
  });

  itData('meta header without TransferSyntaxUID: syntax guessed from the data set', () => {
    const b = bytes('dicom-robustness/pydicom', 'MR_small_implicit.dcm');
    const body = b.slice(dataSetStart(b));
    const f = parseDicom(part10([{ element: 0x0002, vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.4' }], body));
    expect(f.transferSyntaxUID).toBe('1.2.840.10008.1.2');
    expect(f.rows).toBe(64);
    // The upstream meta_missing_tsyntax.dcm has no image: it must say so, not crash.
    expect(code(() => load('dicom-robustness/pydicom', 'meta_missing_tsyntax.dcm'))).toMatch(
      /MALFORMED_FILE|NO_PIXEL_DATA/,
    );
  });

  itData('files without meta whose data sets hold no image say NO_PIXEL_DATA (data set was read)', () => {
    for (const n of ['ExplVR_LitEndNoMeta.dcm', 'ExplVR_BigEndNoMeta.dcm']) {
      expect(() => load('dicom-robustness/pydicom', n)).toThrowError(/RTPLAN/);
    }
  });

  itData('gzip-wrapped files are unwrapped (zipMR.gz, Canon 8000.dcm.gz)', () => {
    expect(load('dicom-robustness/pydicom', 'zipMR.gz').rows).toBe(64);
    const canon = load('dicom-enhanced-multiframe', 'dcm_qa_canon_61', 'dicom', '8000.dcm.gz');
    expect(canon.numberOfFrames).toBe(520);
    expect(canon.frames).toHaveLength(520);
  });

  itData('deflated data sets are inflated', () => {
    const f = load('dicom-robustness/pydicom', 'image_dfl.dcm');
    expect(f.transferSyntaxUID).toBe('1.2.840.10008.1.2.1.99');
    expect(f.rows).toBe(512);
  });

  itData('big endian header values equal little endian ones', () => {
    const a = load('dicom-ct-transfer-syntaxes', 'dicom', 'CTImage.dcm');
    const b = load(
      'dicom-ct-transfer-syntaxes',
      'dicom',
      'CTImage.dcm_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm',
    );
    expect(b.frames[0]).toEqual(a.frames[0]);
    expect([b.rows, b.columns, b.bitsStored, b.pixelRepresentation]).toEqual([
      a.rows,
      a.columns,
      a.bitsStored,
      a.pixelRepresentation,
    ]);
  });
});

describeData('enhanced multi-frame: per-frame facts against dcm2niix references', () => {
  const E = 'dicom-enhanced-multiframe';

  itData('Siemens XA10: frame positions and spacing imply the dcm2niix sform', () => {
    const f = load(E, 'dcm_qa_enh', 'dicom', 'Siemens_XA10', '6_1.dcm');
    const s = sform(E, 'dcm_qa_enh', 'ref-dcm_qa_enh', 'Siemens_REST1_w_SMS_PF7-8_6.nii');
    expect(f.numberOfFrames).toBe(6);
    const f0 = f.frames[0]!;
    expect(f0.pixelSpacing).toEqual([3.375, 3.375]);
    expect(f0.sliceThickness).toBeCloseTo(2.4, 6);
    // dcm2niix flips rows: NIfTI voxel (0,0,0) is DICOM pixel (0, rows-1) of the first slice; RAS = (-L, -P, S).
    const [r, c] = f0.orientation!;
    const dy = (f.rows - 1) * f0.pixelSpacing![1];
    const corner = [0, 1, 2].map((a) => f0.position![a]! + c[a]! * dy);
    expect(-corner[0]!).toBeCloseTo(s[0]![3]!, 3);
    expect(-corner[1]!).toBeCloseTo(s[1]![3]!, 3);
    expect(corner[2]!).toBeCloseTo(s[2]![3]!, 3);
    // i axis = row direction * spacing (x RAS = -x LPS)
    expect(-r[0]! * 3.375).toBeCloseTo(s[0]![0]!, 3);
    // slice step between in-stack neighbours = sform k column
    for (let k = 1; k < 6; k++) {
      const a = f.frames.find((x) => x.inStackPosition === k)!.position!;
      const b = f.frames.find((x) => x.inStackPosition === k + 1)!.position!;
      for (const [ax, v] of [-(b[0] - a[0]), -(b[1] - a[1]), b[2] - a[2]].entries())
        expect(v).toBeCloseTo(s[ax]![2]!, 3);
    }
  });

  itData('Canon oblique DTI (gzip, 520 frames): first frame and slice step match the dcm2niix sform', () => {
    const f = load(E, 'dcm_qa_canon_61', 'dicom', '8000.dcm.gz');
    const s = sform(E, 'dcm_qa_canon_61', 'ref-dcm_qa_canon_61', '8000_DTI_PA-ALL_20d_enh.nii.gz');
    const first = f.frames.find((x) => x.temporalPosition === 1 && x.inStackPosition === 1)!;
    const second = f.frames.find((x) => x.temporalPosition === 1 && x.inStackPosition === 2)!;
    const [, c] = first.orientation!;
    const dy = (f.rows - 1) * first.pixelSpacing![1];
    const corner = [0, 1, 2].map((a) => first.position![a]! + c[a]! * dy);
    const ras = [-corner[0]!, -corner[1]!, corner[2]!];
    for (const [a, v] of ras.entries()) expect(v).toBeCloseTo(s[a]![3]!, 2);
    const step = [0, 1, 2].map((a) => second.position![a]! - first.position![a]!);
    for (const [a, v] of [-step[0]!, -step[1]!, step[2]!].entries()) expect(v).toBeCloseTo(s[a]![2]!, 3);
    // 13 volumes x 40 slices
    expect(new Set(f.frames.map((x) => x.temporalPosition)).size).toBe(13);
    expect(new Set(f.frames.map((x) => x.inStackPosition)).size).toBe(40);
  });

  itData('Philips field map: per-frame rescale (0.2442 Hz, -500) and frame type split magnitude from B0', () => {
    const f = load(E, 'dcm_qa_enh', 'dicom', 'Philips', 'IM_0027_fMAP.dcm');
    const json = JSON.parse(
      readFileSync(dataPath(E, 'dcm_qa_enh', 'ref-dcm_qa_enh', 'Philips_WIP_B0_NS_801_e2_fieldmaphz.json'), 'utf8'),
    );
    const types = new Set(f.frames.map((x) => x.imageType));
    expect(types.size).toBe(2);
    const fmap = f.frames.filter((x) => /FIELD_MAP/.test(x.imageType ?? ''));
    expect(fmap).toHaveLength(32);
    for (const x of fmap) {
      expect(x.rescaleSlope).toBeCloseTo(json.PhilipsRescaleSlope, 4);
      expect(x.rescaleIntercept).toBeCloseTo(json.PhilipsRescaleIntercept, 6);
    }
    const mag = f.frames.filter((x) => !/FIELD_MAP/.test(x.imageType ?? ''));
    expect(mag).toHaveLength(32);
    expect(mag[0]!.rescaleSlope).not.toBeCloseTo(json.PhilipsRescaleSlope, 3);
    expect(f.frames[0]!.dimensionIndex).toBeDefined();
    expect(f.frames[0]!.echoNumber).toBe(1); // Philips per-frame private EchoNumbers (2005,140F)
  });

  itData('emri_small (functional groups stripped by anonymisation): 10 frames, no invented positions', () => {
    const f = load(E, 'pydicom-data', 'emri_small.dcm');
    expect(f.frames.map((x) => x.frameIndex)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(f.frames.slice(1).some((x) => x.position !== undefined)).toBe(false);
    expect(f.spacingBetweenSlices).toBeCloseTo(1.2, 6);
  });
});

describeData('Siemens mosaic facts', () => {
  itData('dcm_qa_ts mosaic: 35 slices, normal from CSA', () => {
    const f = load('dicom-mr-transfer-syntaxes', 'dicom', '1.dcm');
    expect(f.imageType).toMatch(/MOSAIC/);
    expect(f.mosaicSlices).toBe(35);
    // nibabel's CSA reader: SliceNormalVector [0, 0.10799944, 0.99415095]
    expect(f.mosaicNormal![0]).toBeCloseTo(0, 6);
    expect(f.mosaicNormal![1]).toBeCloseTo(0.10799944, 6);
    expect(f.mosaicNormal![2]).toBeCloseTo(0.99415095, 6);
    // Same facts from the big-endian and implicit copies.
    for (const n of ['2.dcm', '3.dcm', '9.dcm'])
      expect(load('dicom-mr-transfer-syntaxes', 'dicom', n).mosaicSlices).toBe(35);
  });
  itData("nibabel's csa_slice_norm.dcm: CSA SliceNormalVector and mosaic count", () => {
    const ds = dicomParser.parseDicom(bytes('dicom-robustness', 'nibabel-debian', 'csa_slice_norm.dcm'));
    const t = privateTag(ds, 0x0029, 'SIEMENS CSA HEADER', 0x10);
    const e = ds.elements[t]!;
    const csa = readCsa(ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length));
    expect(csaNumbers(csa, 'SliceNormalVector')).toEqual([0, 0.43994078, 0.89802679]);
    expect(csaNumbers(csa, 'NumberOfImagesInMosaic')).toEqual([32]);
  });
});

describeData('privacy', () => {
  itData('no patient identifiers reach DicomFile (cookie files with fake PHI)', () => {
    const csv = readFileSync(dataPath('dicom-deid-fake-phi-cookies', 'identifying_attributes_pydicom.csv'), 'utf8');
    for (const n of [1, 2, 3]) {
      const f = load('dicom-deid-fake-phi-cookies', `cookie-${n}`, 'images', 'image1.dcm');
      const json = JSON.stringify({ ...f, name: '' }); // the name is the caller's path, not from the file
      for (const key of [
        'PatientName',
        'PatientID',
        'PatientBirthDate',
        'ReferringPhysicianName',
        'OperatorsName',
        'InstitutionName',
        'StudyDate',
      ]) {
        expect(json).not.toContain(`"${key}"`);
      }
      // Values listed as identifying for this file (names, IDs, dates, times) must not appear either.
      for (const line of csv.split(/\r?\n/).slice(1)) {
        const m = /^([^,]*),"[^"]*",([^,]*),([^,]*),(.*)$/.exec(line);
        if (!m || m[1] !== `cookie-${n}/images/image1.dcm`) continue;
        const [keyword, vr, value] = [m[2]!, m[3]!, m[4]!.replace(/^"|"$/g, '').trim()];
        if (
          ['PN', 'DA', 'LO', 'SH', 'DT'].includes(vr) &&
          value.length >= 4 &&
          !/Description|Manufacturer|Model/.test(keyword)
        ) {
          expect({ keyword, present: json.includes(value) }).toEqual({ keyword, present: false });
        }
      }
    }
  });
});
