const { contentKind } = await import('/work/main/packages/cli/src/input.ts');
const { readFileSync } = await import('node:fs');
console.log(contentKind('quarter.nhdr', new Uint8Array(readFileSync('/work/shared/data/ct-head-volumes/vtk-headsq/quarter.nhdr'))));
